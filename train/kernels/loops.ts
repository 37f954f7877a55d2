/**
 * Typed-array loops behind the training kernels. They take plain Float32Arrays
 * (views on the wasm heap, or the cpu backend's values) so the same maths
 * serves every backend and can be tested without tfjs.
 *
 * Layouts are NHWC; depthwise filters are [kh, kw, C] (channel multiplier 1).
 */

/** Geometry of one 2-D convolution, as tfjs's `Conv2DInfo` has it. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * dx of a depthwise convolution: every dy value is scattered back through the
 * filter taps. Accumulation is at most kh·kw terms per element, so float32 is
 * enough here.
 */
export function depthwiseBackpropInput(
  dy: Float32Array,
  filter: Float32Array,
  dx: Float32Array,
  g: ConvGeometry,
): void {
  const C = g.inChannels;
  dx.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ih0 = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iw0 = ow * g.strideWidth - g.padLeft;
        const dyBase = ((n * g.outHeight + oh) * g.outWidth + ow) * C;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ih0 + kh * g.dilationHeight;
          if (ih < 0 || ih >= g.inHeight) continue;
          const rowBase = (n * g.inHeight + ih) * g.inWidth;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = iw0 + kw * g.dilationWidth;
            if (iw < 0 || iw >= g.inWidth) continue;
            const dxBase = (rowBase + iw) * C;
            const wBase = (kh * g.filterWidth + kw) * C;
            for (let c = 0; c < C; c++) {
              dx[dxBase + c] += dy[dyBase + c] * filter[wBase + c];
            }
          }
        }
      }
    }
  }
}

/**
 * dW of a depthwise convolution. Sums run over batch × output pixels (tens of
 * thousands of terms), so each output row is accumulated in float64 and only
 * then added to the float64 total: float32 accumulation drifts by ~1e-4 here.
 */
export function depthwiseBackpropFilter(
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  g: ConvGeometry,
): void {
  const C = g.inChannels;
  const taps = g.filterHeight * g.filterWidth;
  const total = new Float64Array(taps * C);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ih0 = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iw0 = ow * g.strideWidth - g.padLeft;
        const dyBase = ((n * g.outHeight + oh) * g.outWidth + ow) * C;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ih0 + kh * g.dilationHeight;
          if (ih < 0 || ih >= g.inHeight) continue;
          const rowBase = (n * g.inHeight + ih) * g.inWidth;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = iw0 + kw * g.dilationWidth;
            if (iw < 0 || iw >= g.inWidth) continue;
            const xBase = (rowBase + iw) * C;
            const wBase = (kh * g.filterWidth + kw) * C;
            for (let c = 0; c < C; c++) {
              total[wBase + c] += x[xBase + c] * dy[dyBase + c];
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < total.length; i++) dw[i] = total[i];
}

/**
 * Unfolds x into rows of receptive fields, [N·OH·OW, kh·kw·inC], zeros where
 * the window hangs over the padding. cols^T · dy is then the filter gradient
 * in tfjs's [kh, kw, inC, outC] order, computed by XNNPACK's matMul.
 */
export function im2col(x: Float32Array, cols: Float32Array, g: ConvGeometry): void {
  const C = g.inChannels;
  const rowLength = g.filterHeight * g.filterWidth * C;
  let row = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ih0 = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++, row++) {
        const iw0 = ow * g.strideWidth - g.padLeft;
        let o = row * rowLength;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ih0 + kh * g.dilationHeight;
          for (let kw = 0; kw < g.filterWidth; kw++, o += C) {
            const iw = iw0 + kw * g.dilationWidth;
            if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) {
              for (let c = 0; c < C; c++) cols[o + c] = 0;
            } else {
              // A plain loop: for the few channels of a stem, a subarray per tap costs more than the copy.
              const src = ((n * g.inHeight + ih) * g.inWidth + iw) * C;
              for (let c = 0; c < C; c++) cols[o + c] = x[src + c];
            }
          }
        }
      }
    }
  }
}

/**
 * Training-mode batch normalisation over all axes but the last, in one pass
 * for the statistics and one for the output. Returns the biased batch
 * variance, which is what normalises; callers correct it for moving averages.
 */
export function batchNormForward(
  x: Float32Array,
  scale: Float32Array,
  offset: Float32Array,
  epsilon: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const C = scale.length;
  const count = x.length / C;
  const sum = new Float64Array(C);
  const sumSq = new Float64Array(C);
  for (let i = 0; i < x.length; i += C) {
    for (let c = 0; c < C; c++) {
      const v = x[i + c];
      sum[c] += v;
      sumSq[c] += v * v;
    }
  }
  const a = new Float32Array(C);
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = sum[c] / count;
    const v = Math.max(sumSq[c] / count - m * m, 0);
    mean[c] = m;
    variance[c] = v;
    a[c] = scale[c] / Math.sqrt(v + epsilon);
    b[c] = offset[c] - m * a[c];
  }
  for (let i = 0; i < x.length; i += C) {
    for (let c = 0; c < C; c++) y[i + c] = x[i + c] * a[c] + b[c];
  }
}

/**
 * Gradient of {@link batchNormForward} with respect to x, scale and offset,
 * with the batch statistics' own dependence on x included:
 * dx = scale·invStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)).
 */
export function batchNormBackward(
  dy: Float32Array,
  x: Float32Array,
  scale: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  epsilon: number,
  dx: Float32Array,
  dScale: Float32Array,
  dOffset: Float32Array,
): void {
  const C = scale.length;
  const count = x.length / C;
  const invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  const sumDy = new Float64Array(C);
  const sumDyXhat = new Float64Array(C);
  for (let i = 0; i < x.length; i += C) {
    for (let c = 0; c < C; c++) {
      const d = dy[i + c];
      sumDy[c] += d;
      sumDyXhat[c] += d * (x[i + c] - mean[c]) * invStd[c];
    }
  }
  const k = new Float32Array(C);
  const meanDy = new Float32Array(C);
  const meanDyXhat = new Float32Array(C);
  const m32 = new Float32Array(C);
  const s32 = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    dScale[c] = sumDyXhat[c];
    dOffset[c] = sumDy[c];
    k[c] = scale[c] * invStd[c];
    meanDy[c] = sumDy[c] / count;
    meanDyXhat[c] = sumDyXhat[c] / count;
    m32[c] = mean[c];
    s32[c] = invStd[c];
  }
  for (let i = 0; i < x.length; i += C) {
    for (let c = 0; c < C; c++) {
      const xhat = (x[i + c] - m32[c]) * s32[c];
      dx[i + c] = k[c] * (dy[i + c] - meanDy[c] - xhat * meanDyXhat[c]);
    }
  }
}

/**
 * dst[c, r] = src[r, c] for a rows × cols matrix, in 16 × 16 tiles so both
 * sides stay in cache (tfjs's wasm Transpose walks one side with a stride).
 */
export function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[row + c];
      }
    }
  }
}
