import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { userCalibrationBatches, type ModelInput } from '../../compress/calibration-data.js';
import { planOnnxInput } from '../../train/input-adapter.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'calib-'));
const input = (shape: Array<number | string>, name = 'input'): ModelInput => ({ name, plan: planOnnxInput(shape) });

function png(path: string, width: number, height: number, pixel: (x: number, y: number) => [number, number, number]) {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) image.data.set([...pixel(x, y), 255], (y * width + x) * 4);
  writeFileSync(path, PNG.sync.write(image));
}

/** A `.npy` v1 file of float32 or uint8 values. */
function npy(values: Float32Array | Uint8Array, shape: number[]): Uint8Array {
  const descr = values instanceof Float32Array ? '<f4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}

describe('calibration images from a directory', () => {
  it('gray PNGs are resized to the model, standardised by the set, and laid out NCHW', async () => {
    const dir = tmp();
    for (let i = 0; i < 3; i++) png(join(dir, `img${i}.png`), 4, 4, (x) => [x * 60 + i * 10, x * 60 + i * 10, x * 60 + i * 10]);
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    // A model with a fixed batch of 1 takes the images one by one.
    expect((await userCalibrationBatches(dir, input([1, 1, 8, 8]), 'standardised', 256)).map((b) => b.dims)).toEqual([[1, 1, 8, 8], [1, 1, 8, 8], [1, 1, 8, 8]]);
    const [batch, ...rest] = await userCalibrationBatches(dir, input(['N', 1, 8, 8]), 'standardised', 256);
    expect(rest).toEqual([]);
    expect(batch.dims).toEqual([3, 1, 8, 8]);
    const mean = batch.data.reduce((a, b) => a + b, 0) / batch.data.length;
    expect(mean).toBeCloseTo(0, 4);
    // Columns rise left to right in every image, after resizing too.
    expect(batch.data[7]).toBeGreaterThan(batch.data[0]);
  });

  it('a mix of RGB JPEG and gray PNG feeds a 3-channel NHWC model at unit scale, and a 1-channel model by averaging', async () => {
    const dir = tmp();
    png(join(dir, 'a.png'), 6, 6, () => [128, 128, 128]);
    const rgba = new Uint8Array(6 * 6 * 4);
    for (let p = 0; p < 36; p++) rgba.set([250, 0, 0, 255], p * 4);
    writeFileSync(join(dir, 'b.jpg'), jpeg.encode({ width: 6, height: 6, data: rgba }, 95).data);
    const [nhwc] = await userCalibrationBatches(dir, input(['N', 6, 6, 3]), 'unit', 256);
    expect(nhwc.dims).toEqual([2, 6, 6, 3]);
    expect(nhwc.data[0]).toBeCloseTo(128 / 255, 2); // a.png, gray replicated
    expect(nhwc.data[36 * 3]).toBeGreaterThan(0.9); // b.jpg red channel
    expect(nhwc.data[36 * 3 + 1]).toBeLessThan(0.1);
    const [gray] = await userCalibrationBatches(dir, input(['N', 1, 6, 6]), 'unit', 1);
    expect(gray.dims).toEqual([1, 1, 6, 6]); // --calibration caps the images
  });

  it('names the bad file: a corrupt PNG, an empty directory, a missing path, another extension', async () => {
    const dir = tmp();
    png(join(dir, 'good.png'), 4, 4, () => [1, 2, 3]);
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    await expect(userCalibrationBatches(dir, input([1, 3, 4, 4]), 'unit', 10)).rejects.toThrow(`${join(dir, 'broken.png')}: not a readable PNG image`);
    const empty = tmp();
    await expect(userCalibrationBatches(empty, input([1, 3, 4, 4]), 'unit', 10)).rejects.toThrow(`${empty}: holds no .png, .jpg or .jpeg images; expected calibration images`);
    await expect(userCalibrationBatches('/nope/images', input([1, 3, 4, 4]), 'unit', 10)).rejects.toThrow('/nope/images: not found; expected a directory of PNG/JPEG images or a .npy/.npz tensor');
    const csv = join(tmp(), 'data.csv');
    writeFileSync(csv, '1,2');
    await expect(userCalibrationBatches(csv, input([1, 3, 4, 4]), 'unit', 10)).rejects.toThrow(`${csv}: expected a directory of PNG/JPEG images or a .npy/.npz tensor`);
  });
});

describe('calibration tensors (.npy/.npz in the model layout)', () => {
  it('a float32 .npy is used as it is, in batches of 32', async () => {
    const values = Float32Array.from({ length: 40 * 3 * 2 * 2 }, (_, i) => i / 7);
    const file = join(tmp(), 'calib.npy');
    writeFileSync(file, npy(values, [40, 3, 2, 2]));
    const batches = await userCalibrationBatches(file, input(['batch', 3, 2, 2]), 'standardised', 256);
    expect(batches.map((b) => b.dims)).toEqual([[32, 3, 2, 2], [8, 3, 2, 2]]);
    expect(Array.from(batches[1].data)).toEqual(Array.from(values.subarray(32 * 12)));
  });

  it('an .npz with one uint8 array, or with the array named after the model input, is read', async () => {
    const file = join(tmp(), 'calib.npz');
    writeFileSync(file, zipSync({ 'images.npy': npy(Uint8Array.from([0, 255, 3, 4]), [1, 1, 2, 2]) }));
    const [b] = await userCalibrationBatches(file, input([1, 1, 2, 2]), 'raw', 256);
    expect(Array.from(b.data)).toEqual([0, 255, 3, 4]);
    const named = join(tmp(), 'named.npz');
    writeFileSync(named, zipSync({ 'x.npy': npy(new Float32Array(4), [1, 1, 2, 2]), 'pixels.npy': npy(new Float32Array(4).fill(2), [1, 1, 2, 2]) }));
    const [n] = await userCalibrationBatches(named, input([1, 1, 2, 2], 'pixels'), 'raw', 256);
    expect(Array.from(n.data)).toEqual([2, 2, 2, 2]);
  });

  it('names the file and what was expected: wrong shape, ambiguous archive, bad archive', async () => {
    const file = join(tmp(), 'calib.npy');
    writeFileSync(file, npy(new Float32Array(2 * 28 * 28), [2, 28, 28]));
    await expect(userCalibrationBatches(file, input([1, 3, 32, 32]), 'raw', 8)).rejects.toThrow(`${file}: shape (2, 28, 28); expected (N, 3, 32, 32) in the model's NCHW input layout`);
    const two = join(tmp(), 'two.npz');
    writeFileSync(two, zipSync({ 'a.npy': npy(new Float32Array(4), [1, 1, 2, 2]), 'b.npy': npy(new Float32Array(4), [1, 1, 2, 2]) }));
    await expect(userCalibrationBatches(two, input([1, 1, 2, 2]), 'raw', 8)).rejects.toThrow(`${two}: holds arrays a.npy, b.npy; expected one array, or one named 'input' after the model's input`);
    const bad = join(tmp(), 'bad.npz');
    writeFileSync(bad, 'zip?');
    await expect(userCalibrationBatches(bad, input([1, 1, 2, 2]), 'raw', 8)).rejects.toThrow(`${bad}: not a readable .npz (zip) archive`);
  });
});
