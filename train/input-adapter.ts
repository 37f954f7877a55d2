/**
 * Our data as another model wants it: the layout (NCHW/NHWC), channel count,
 * size and pixel scale read from the model's input, and each batch of a
 * split converted to match. The ONNX teacher and INT8 calibration both feed
 * foreign models through this one path, so a model that works as a teacher
 * calibrates the same way.
 */
import type { PreparedData } from './datasets/prepared.js';
import type { TensorSplit } from './types.js';

/** How a foreign model expects its pixels. */
export const INPUT_SCALES = ['standardised', 'unit', 'imagenet', 'raw'] as const;
/** One of {@link INPUT_SCALES}. */
export type InputScale = (typeof INPUT_SCALES)[number];

/** A model input that cannot take image batches (wrong rank, channels, layout). */
export class InputAdaptationError extends Error {
  readonly code: string;
  constructor(message: string, code = 'E_TEACHER') {
    super(message);
    this.name = 'InputAdaptationError';
    this.code = code;
  }
}

/** Layout, channels, size and batch a model's image input takes; null sizes are free. */
export interface OnnxInputPlan {
  layout: 'NCHW' | 'NHWC';
  channels: number;
  height: number | null;
  width: number | null;
  batch: number | null;
}

/** Reads layout, channels, size and batch from the model's first input. */
export function planOnnxInput(shape: ReadonlyArray<number | string>, forced?: 'NCHW' | 'NHWC', path = 'model'): OnnxInputPlan {
  if (shape.length !== 4) throw new InputAdaptationError(`${path}: input has shape [${shape.join(', ')}]; expected an image batch of rank 4`);
  const num = (d: number | string) => (typeof d === 'number' && d > 0 ? d : null);
  const channelsFirst = num(shape[1]);
  const channelsLast = num(shape[3]);
  const isChannels = (d: number | null) => d === 1 || d === 3;
  const layout = forced ?? (isChannels(channelsFirst) ? 'NCHW' : isChannels(channelsLast) ? 'NHWC' : null);
  if (!layout) throw new InputAdaptationError(`${path}: cannot tell channels from input shape [${shape.join(', ')}]; pass the layout`);
  const channels = layout === 'NCHW' ? channelsFirst : channelsLast;
  if (channels !== 1 && channels !== 3) throw new InputAdaptationError(`${path}: input has ${channels} channels; expected 1 or 3`);
  const [height, width] = layout === 'NCHW' ? [num(shape[2]), num(shape[3])] : [num(shape[1]), num(shape[2])];
  return { layout, channels, height, width, batch: num(shape[0]) };
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** ImageNet statistics of a grey image: the mean of the three channels' means and stds. */
const IMAGENET_GREY = { mean: [0.449], std: [0.226] };

/**
 * Where each output coordinate reads along one axis, as tfjs's
 * resizeBilinear with alignCorners: the two source indices and the weight of
 * the second.
 */
export function bilinearTaps(from: number, to: number): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const ratio = to > 1 ? (from - 1) / (to - 1) : from / to;
  const lo = new Int32Array(to);
  const hi = new Int32Array(to);
  const frac = new Float64Array(to);
  for (let o = 0; o < to; o++) {
    const at = ratio * o;
    lo[o] = Math.max(0, Math.floor(at));
    hi[o] = Math.min(from - 1, Math.ceil(at));
    frac[o] = at - lo[o];
  }
  return { lo, hi, frac };
}

/**
 * One image's pixels as the model's channels and scale, at the data's size:
 * our standardisation undone (unless the model takes it), channels tiled or
 * averaged, then the model's scale. Written as planes [channels][h·w].
 */
function scaledPlanes(src: Float32Array, offset: number, pixels: number, inChannels: number, outChannels: number, data: Pick<PreparedData, 'normalisation'>, scale: InputScale, planes: Float32Array): void {
  const { mean, std } = data.normalisation;
  const target = outChannels === 3 ? IMAGENET : IMAGENET_GREY;
  const unit = new Float64Array(inChannels);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < inChannels; k++) {
      const v = src[offset + p * inChannels + k];
      unit[k] = scale === 'standardised' ? v : Math.fround(Math.fround(v * std[k]) + mean[k]);
    }
    for (let c = 0; c < outChannels; c++) {
      let v = inChannels === outChannels ? unit[c] : inChannels === 1 ? unit[0] : Math.fround((unit[0] + unit[1] + unit[2]) / 3);
      if (scale === 'imagenet') v = (v - target.mean[c]) / target.std[c];
      else if (scale === 'raw') v *= 255;
      planes[c * pixels + p] = v;
    }
  }
}

/**
 * One batch of `split` shaped and scaled the way the model of `plan` wants
 * it, in plain loops: a few milliseconds per 224-px image, where tfjs ops on
 * the wasm backend took most of a second (resize, tile and transpose of the
 * full-size batch). The arithmetic and its order are those of the tfjs ops it
 * replaces: scale at the data's size, then bilinear resize with aligned corners.
 */
export function adaptBatch(
  split: TensorSplit,
  start: number,
  n: number,
  plan: OnnxInputPlan,
  data: Pick<PreparedData, 'normalisation'>,
  scale: InputScale,
  out?: Float32Array,
): Float32Array {
  const { height: sh, width: sw, channels: sc } = split;
  const h = plan.height ?? sh;
  const w = plan.width ?? sw;
  const oc = plan.channels;
  const result = out ?? new Float32Array(n * oc * h * w);
  if (result.length < n * oc * h * w) throw new RangeError(`output buffer holds ${result.length} values; ${n * oc * h * w} needed`);
  const rows = bilinearTaps(sh, h);
  const cols = bilinearTaps(sw, w);
  // Strides of channel, row and column in the output image.
  const [cStride, yStride, xStride] = plan.layout === 'NCHW' ? [h * w, w, 1] : [1, w * oc, oc];
  const planes = new Float32Array(oc * sh * sw);
  const across = new Float64Array(sh * w); // each source row resized across: the separable first pass
  for (let i = 0; i < n; i++) {
    scaledPlanes(split.images, (start + i) * sh * sw * sc, sh * sw, sc, oc, data, scale, planes);
    const image = i * oc * h * w;
    for (let c = 0; c < oc; c++) {
      const plane = c * sh * sw;
      for (let r = 0; r < sh; r++) {
        const row = plane + r * sw;
        for (let x = 0; x < w; x++) {
          const left = planes[row + cols.lo[x]];
          across[r * w + x] = left + (planes[row + cols.hi[x]] - left) * cols.frac[x];
        }
      }
      for (let y = 0; y < h; y++) {
        const top = rows.lo[y] * w;
        const bottom = rows.hi[y] * w;
        const fy = rows.frac[y];
        const base = image + c * cStride + y * yStride;
        for (let x = 0; x < w; x++) {
          const t = across[top + x];
          result[base + x * xStride] = t + (across[bottom + x] - t) * fy;
        }
      }
    }
  }
  return result;
}

/** Turns probabilities into log-probabilities (logits up to a constant) when the model ends in softmax. */
export function asLogits(values: Float32Array, classes: number): Float32Array {
  let probabilities = true;
  for (let i = 0; i < values.length && probabilities; i += classes) {
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      if (values[i + k] < 0) probabilities = false;
      sum += values[i + k];
    }
    if (Math.abs(sum - 1) > 1e-3) probabilities = false;
  }
  return probabilities ? values.map((p) => Math.log(Math.max(p, 1e-12))) : values;
}
