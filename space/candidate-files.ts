/**
 * A candidate's directory: `genome.json` (architecture, what rebuilds it,
 * preprocessing), `model.onnx`, and the tfjs model as `model.json` +
 * `weights.bin`, loadable with the standard tfjs-layers loader.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { buildOnnxModel, tfjsWeights } from './build-onnx.js';
import { genomeId } from './genome.js';
import { planCost, planNetwork, type NetworkPlan } from './plan.js';
import { genomeSchema, SpaceConfigError } from './schema.js';
import type { Genome } from './types.js';

export const GENOME_FILE = 'genome.json';
export const ONNX_FILE = 'model.onnx';
export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

const genomeFileSchema = z.strictObject({
  id: z.string(),
  genome: genomeSchema,
  strides: z.strictObject({ stem: z.number().int(), stages: z.array(z.number().int()) }),
  data: z.strictObject({
    numClasses: z.number().int().positive(),
    inputChannels: z.number().int().positive(),
    mean: z.array(z.number()),
    std: z.array(z.number()),
    classNames: z.array(z.string()).optional(),
  }),
  params: z.number().int(),
  macs: z.number().int(),
});
/** What genome.json holds. */
export type GenomeFile = z.infer<typeof genomeFileSchema>;

/** Writes a file through a temporary name, so a crash never leaves half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** The plan genome.json describes. */
export function planOf(file: GenomeFile): NetworkPlan {
  return planNetwork(file.genome, file.strides, { numClasses: file.data.numClasses, inputChannels: file.data.inputChannels });
}

/** Describes a genome for genome.json. */
export function describeGenome(
  genome: Genome,
  strides: GenomeFile['strides'],
  data: GenomeFile['data'],
): GenomeFile {
  const cost = planCost(planNetwork(genome, strides, data));
  return { id: genomeId(genome), genome, strides, data, params: cost.params, macs: cost.macs };
}

/** Serialises a tfjs model to model.json + weights.bin contents. */
export async function tfjsArtifacts(model: tfl.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let result: { json: string; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.concatenateArrayBuffers([artifacts.weightData as ArrayBuffer]));
      result = {
        json: JSON.stringify({
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [`./${TFJS_WEIGHTS_FILE}`], weights: artifacts.weightSpecs }],
        }),
        weights,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return result!;
}

/** Writes genome.json, model.onnx and the tfjs model into `dir`. */
export async function saveCandidate(dir: string, file: GenomeFile, model: tfl.LayersModel): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { json, weights } = await tfjsArtifacts(model);
  writeFileAtomic(join(dir, TFJS_WEIGHTS_FILE), weights);
  writeFileAtomic(join(dir, TFJS_MODEL_FILE), json);
  writeFileAtomic(join(dir, ONNX_FILE), exportOnnx(file, model));
  writeFileAtomic(join(dir, GENOME_FILE), JSON.stringify(file, null, 2) + '\n');
}

/** The ONNX bytes of a candidate, with its preprocessing in the metadata. */
export function exportOnnx(file: GenomeFile, model: tfl.LayersModel): Uint8Array {
  return buildOnnxModel(planOf(file), tfjsWeights(model), {
    genome_id: file.id,
    genome: JSON.stringify(file.genome),
    input_layout: 'NCHW',
    preprocessing: `x = (pixel / 255 - mean[c]) / std[c]; mean=${JSON.stringify(file.data.mean)} std=${JSON.stringify(file.data.std)}`,
    ...(file.data.classNames ? { class_names: JSON.stringify(file.data.classNames) } : {}),
  });
}

/** Reads genome.json; errors name the file and field. */
export function readGenomeFile(dir: string): GenomeFile {
  const path = join(dir, GENOME_FILE);
  if (!existsSync(path)) throw new SpaceConfigError('(file)', 'not found: not a candidate directory', path);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SpaceConfigError('(file)', `is not valid JSON: ${(error as Error).message}`, path);
  }
  const parsed = genomeFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpaceConfigError(issue.path.join('.') || '(root)', issue.message, path);
  }
  return parsed.data;
}

/** Loads the tfjs model of a candidate directory with the stock tfjs-layers loader. */
export async function loadCandidateModel(dir: string): Promise<tfl.LayersModel> {
  const manifest = JSON.parse(readFileSync(join(dir, TFJS_MODEL_FILE), 'utf8'));
  const weights = readFileSync(join(dir, TFJS_WEIGHTS_FILE));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: manifest.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

/** `nas export`: rebuilds model.onnx of a candidate directory from its tfjs weights. */
export async function reexportCandidate(dir: string): Promise<string> {
  const file = readGenomeFile(dir);
  const model = await loadCandidateModel(dir);
  const path = join(dir, ONNX_FILE);
  writeFileAtomic(path, exportOnnx(file, model));
  model.dispose();
  return path;
}
