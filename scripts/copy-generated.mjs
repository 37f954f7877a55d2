/**
 * Build step after tsc: copies the committed generated JavaScript (the ONNX
 * protobuf code, onnx/onnx-proto.js, and its types) into dist/, where tsc
 * does not put plain .js and .d.ts sources.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const file of ['onnx/onnx-proto.js', 'onnx/onnx-proto.d.ts']) {
  mkdirSync(dirname(join(repo, 'dist', file)), { recursive: true });
  copyFileSync(join(repo, file), join(repo, 'dist', file));
}
