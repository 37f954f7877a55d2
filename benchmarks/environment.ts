/** What a measurement ran on: versions, CPU and load, recorded with every result. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Environment } from './types.js';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    const main = require.resolve(name);
    let dir = main;
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch {
        // keep walking up
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

let cached: Omit<Environment, 'loadAverage'> | null = null;

/** Versions, CPU and load of this machine, recorded with every measurement. */
export function captureEnvironment(): Environment {
  cached ??= {
    onnxruntime: packageVersion('onnxruntime-node'),
    node: process.version,
    tinybench: packageVersion('tinybench'),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.cpus().length,
    platform: `${os.platform()}-${os.arch()}`,
    host: os.hostname(),
  };
  return { ...cached, loadAverage: os.loadavg()[0] };
}
