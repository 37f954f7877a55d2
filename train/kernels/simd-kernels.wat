;; Assembled to WebAssembly bytes at build time (scripts/assemble-kernels.mjs writes
;; simd-kernels-wasm.ts, which simd.ts compiles), so no process parses this text.
;;
;; Memory-bound training kernels in WebAssembly SIMD, run on the tfjs wasm
;; backend's own heap (the memory is imported), so tensors are never copied.
;; Every pointer is a byte offset into that heap. Channel loops step four
;; floats at a time: callers guarantee C % 4 == 0 and fall back to the
;; JavaScript loops otherwise. This module owns no memory of its own; scratch
;; buffers are tensors the caller allocates.
(module
  (import "env" "memory" (memory 1))

  ;; sum[c] = Σ_r x[r, c]
  (func (export "columnSums") (param $x i32) (param $rows i32) (param $c i32) (param $sum i32)
    (local $rowBytes i32) (local $end i32) (local $j i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $sum) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (v128.store (i32.add (local.get $sum) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $sum) (local.get $j)))
                     (v128.load (i32.add (local.get $x) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (br $row))))

  ;; sq[c] = Σ_r (x[r, c] − mean[c])²   (centred, so no cancellation)
  (func (export "centredSquares") (param $x i32) (param $rows i32) (param $c i32) (param $mean i32) (param $sq i32)
    (local $rowBytes i32) (local $end i32) (local $j i32) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $sq) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                                 (v128.load (i32.add (local.get $mean) (local.get $j)))))
        (v128.store (i32.add (local.get $sq) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $sq) (local.get $j)))
                     (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (br $row))))

  ;; y[r, c] = x[r, c]·a[c] + b[c]
  (func (export "affine") (param $x i32) (param $rows i32) (param $c i32) (param $a i32) (param $b i32) (param $y i32)
    (local $rowBytes i32) (local $end i32) (local $j i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (v128.store (i32.add (local.get $y) (local.get $j))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $j)))
                       (v128.load (i32.add (local.get $a) (local.get $j))))
            (v128.load (i32.add (local.get $b) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
      (br $row))))

  ;; sumDy[c] = Σ dy;  sumDyXc[c] = Σ dy·(x − mean[c])
  (func (export "gradSums") (param $dy i32) (param $x i32) (param $rows i32) (param $c i32) (param $mean i32)
                            (param $sumDy i32) (param $sumDyXc i32)
    (local $rowBytes i32) (local $end i32) (local $j i32) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $sumDy) (i32.const 0) (local.get $rowBytes))
    (memory.fill (local.get $sumDyXc) (i32.const 0) (local.get $rowBytes))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $g (v128.load (i32.add (local.get $dy) (local.get $j))))
        (v128.store (i32.add (local.get $sumDy) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $sumDy) (local.get $j))) (local.get $g)))
        (v128.store (i32.add (local.get $sumDyXc) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $sumDyXc) (local.get $j)))
            (f32x4.mul (local.get $g)
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                         (v128.load (i32.add (local.get $mean) (local.get $j)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
      (br $row))))

  ;; out[r, c] = dy·a[c] + x·b[c] + k[c]
  (func (export "gradApply") (param $dy i32) (param $x i32) (param $rows i32) (param $c i32)
                             (param $a i32) (param $b i32) (param $k i32) (param $out i32)
    (local $rowBytes i32) (local $end i32) (local $j i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (v128.store (i32.add (local.get $out) (local.get $j))
          (f32x4.add
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $j)))
                         (v128.load (i32.add (local.get $a) (local.get $j))))
              (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $j)))
                         (v128.load (i32.add (local.get $b) (local.get $j)))))
            (v128.load (i32.add (local.get $k) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rowBytes))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
      (br $row))))

  ;; out = (lo < x < hi) ? dy : 0, over n floats (n % 4 == 0)
  (func (export "clipGrad") (param $x i32) (param $dy i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $end i32) (local $v v128) (local $vlo v128) (local $vhi v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $out)
        (v128.and (v128.load (local.get $dy))
          (v128.and (f32x4.gt (local.get $v) (local.get $vlo)) (f32x4.lt (local.get $v) (local.get $vhi)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $l))))

  ;; dw[i, j] += Σ_r a[r, i]·b[r, j] for one 1×4 strip of dw, over $rows rows.
  (func $strip1x4 (param $pa i32) (param $pb i32) (param $pw i32) (param $rows i32) (param $aStride i32) (param $bStride i32)
    (local $acc v128)
    (local.set $acc (v128.load (local.get $pw)))
    (block $done (loop $r
      (br_if $done (i32.eqz (local.get $rows)))
      (local.set $acc (f32x4.add (local.get $acc)
        (f32x4.mul (f32x4.splat (f32.load (local.get $pa))) (v128.load (local.get $pb)))))
      (local.set $pa (i32.add (local.get $pa) (local.get $aStride)))
      (local.set $pb (i32.add (local.get $pb) (local.get $bStride)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $r)))
    (v128.store (local.get $pw) (local.get $acc)))

  ;; dw[i, j] = Σ_r a[r, i]·b[r, j]   (a: R×M, b: R×N, dw: M×N, all row-major; N % 4 == 0)
  ;; The filter gradient of a 1×1 (or im2col'd) convolution, aᵀ·b without transposing
  ;; either operand. Rows go in blocks of $rb, small enough that a block of a and b
  ;; stays in cache while every 4×8 tile of dw accumulates over it in registers
  ;; (8 accumulators, one broadcast of a and two vectors of b per row); the edges
  ;; (M % 4 rows, N % 8 == 4 columns) take 1×4 strips.
  (func (export "gemmAtB") (param $a i32) (param $b i32) (param $dw i32) (param $R i32) (param $M i32) (param $N i32) (param $rb i32)
    (local $aStride i32) (local $bStride i32) (local $rowW i32) (local $M4 i32) (local $N8 i32)
    (local $r0 i32) (local $rows i32) (local $i i32) (local $j i32)
    (local $pa i32) (local $pb i32) (local $pEnd i32) (local $pw i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $aStride (i32.shl (local.get $M) (i32.const 2)))
    (local.set $bStride (i32.shl (local.get $N) (i32.const 2)))
    (local.set $rowW (local.get $bStride))
    (local.set $M4 (i32.and (local.get $M) (i32.const -4)))
    (local.set $N8 (i32.and (local.get $N) (i32.const -8)))
    (memory.fill (local.get $dw) (i32.const 0) (i32.mul (local.get $M) (local.get $bStride)))
    (local.set $r0 (i32.const 0))
    (block $allRows (loop $rowBlock
      (br_if $allRows (i32.ge_u (local.get $r0) (local.get $R)))
      (local.set $rows (i32.sub (local.get $R) (local.get $r0)))
      (if (i32.gt_u (local.get $rows) (local.get $rb)) (then (local.set $rows (local.get $rb))))
      ;; 4×8 tiles
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $M4)))
        (local.set $j (i32.const 0))
        (block $jDone (loop $jLoop
          (br_if $jDone (i32.ge_u (local.get $j) (local.get $N8)))
          (local.set $pw (i32.add (local.get $dw) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
              (local.set $c00 (v128.load offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 0) (local.get $rowW)))))
              (local.set $c01 (v128.load offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 0) (local.get $rowW)))))
              (local.set $c10 (v128.load offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 1) (local.get $rowW)))))
              (local.set $c11 (v128.load offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 1) (local.get $rowW)))))
              (local.set $c20 (v128.load offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 2) (local.get $rowW)))))
              (local.set $c21 (v128.load offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 2) (local.get $rowW)))))
              (local.set $c30 (v128.load offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 3) (local.get $rowW)))))
              (local.set $c31 (v128.load offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 3) (local.get $rowW)))))
          (local.set $pa (i32.add (local.get $a) (i32.add (i32.mul (local.get $r0) (local.get $aStride)) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $pb (i32.add (local.get $b) (i32.add (i32.mul (local.get $r0) (local.get $bStride)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $pEnd (i32.add (local.get $pa) (i32.mul (local.get $rows) (local.get $aStride))))
          (loop $r
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $s (f32x4.splat (f32.load offset=0 (local.get $pa))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load offset=4 (local.get $pa))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load offset=8 (local.get $pa))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (f32x4.splat (f32.load offset=12 (local.get $pa))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $pa (i32.add (local.get $pa) (local.get $aStride)))
            (local.set $pb (i32.add (local.get $pb) (local.get $bStride)))
            (br_if $r (i32.lt_u (local.get $pa) (local.get $pEnd))))
              (v128.store offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 0) (local.get $rowW))) (local.get $c00))
              (v128.store offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 0) (local.get $rowW))) (local.get $c01))
              (v128.store offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 1) (local.get $rowW))) (local.get $c10))
              (v128.store offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 1) (local.get $rowW))) (local.get $c11))
              (v128.store offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 2) (local.get $rowW))) (local.get $c20))
              (v128.store offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 2) (local.get $rowW))) (local.get $c21))
              (v128.store offset=0 (i32.add (local.get $pw) (i32.mul (i32.const 3) (local.get $rowW))) (local.get $c30))
              (v128.store offset=16 (i32.add (local.get $pw) (i32.mul (i32.const 3) (local.get $rowW))) (local.get $c31))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $jLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iLoop)))
      ;; edges: columns N8..N of the first M4 rows of dw, then the last M % 4 rows whole
      (local.set $i (i32.const 0))
      (block $eDone (loop $eLoop
        (br_if $eDone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $j (select (local.get $N8) (i32.const 0) (i32.lt_u (local.get $i) (local.get $M4))))
        (block $ejDone (loop $ejLoop
          (br_if $ejDone (i32.ge_u (local.get $j) (local.get $N)))
          (call $strip1x4
            (i32.add (local.get $a) (i32.add (i32.mul (local.get $r0) (local.get $aStride)) (i32.shl (local.get $i) (i32.const 2))))
            (i32.add (local.get $b) (i32.add (i32.mul (local.get $r0) (local.get $bStride)) (i32.shl (local.get $j) (i32.const 2))))
            (i32.add (local.get $dw) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2)))
            (local.get $rows) (local.get $aStride) (local.get $bStride))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $ejLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $eLoop)))
      (local.set $r0 (i32.add (local.get $r0) (local.get $rows)))
      (br $rowBlock))))

  ;; Depthwise convolution, input gradient (NHWC, multiplier 1, dilation 1):
  ;; dx[n,ih,iw,c] += dy[n,oh,ow,c]·w[kh,kw,c], tap by tap. register.ts runs
  ;; the stride-1 case as depthwiseForward on the turned filter instead; this
  ;; serves strides. geom points at 12 i32s: N H W C OH OW KH KW SH SW padTop padLeft.
  (func (export "depthwiseInputGradient") (param $dy i32) (param $w i32) (param $dx i32) (param $geom i32)
    (local $N i32) (local $H i32) (local $W i32) (local $C4 i32) (local $OH i32) (local $OW i32)
    (local $KH i32) (local $KW i32) (local $SH i32) (local $SW i32) (local $PT i32) (local $PL i32)
    (local $n i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32) (local $ih i32) (local $iw i32)
    (local $dyRow i32) (local $xPix i32) (local $tap i32) (local $j i32) (local $p i32)
    (local.set $N (i32.load offset=0 (local.get $geom)))
    (local.set $H (i32.load offset=4 (local.get $geom)))
    (local.set $W (i32.load offset=8 (local.get $geom)))
    (local.set $C4 (i32.shl (i32.load offset=12 (local.get $geom)) (i32.const 2)))
    (local.set $OH (i32.load offset=16 (local.get $geom)))
    (local.set $OW (i32.load offset=20 (local.get $geom)))
    (local.set $KH (i32.load offset=24 (local.get $geom)))
    (local.set $KW (i32.load offset=28 (local.get $geom)))
    (local.set $SH (i32.load offset=32 (local.get $geom)))
    (local.set $SW (i32.load offset=36 (local.get $geom)))
    (local.set $PT (i32.load offset=40 (local.get $geom)))
    (local.set $PL (i32.load offset=44 (local.get $geom)))
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $N) (local.get $H)) (local.get $W)) (local.get $C4)))
    (local.set $n (i32.const 0))
    (loop $nLoop
      (local.set $oh (i32.const 0))
      (loop $ohLoop
        (local.set $ow (i32.const 0))
        (loop $owLoop
          ;; byte offset of dy[n, oh, ow, 0]
          (local.set $dyRow (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $oh)) (local.get $OW)) (local.get $ow)) (local.get $C4)))
          (local.set $kh (i32.const 0))
          (loop $khLoop
            (local.set $ih (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $SH)) (local.get $PT)) (local.get $kh)))
            (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $H)))
              (then
                (local.set $kw (i32.const 0))
                (loop $kwLoop
                  (local.set $iw (i32.add (i32.sub (i32.mul (local.get $ow) (local.get $SW)) (local.get $PL)) (local.get $kw)))
                  (if (i32.and (i32.ge_s (local.get $iw) (i32.const 0)) (i32.lt_s (local.get $iw) (local.get $W)))
                    (then
                      (local.set $xPix (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $iw)) (local.get $C4)))
                      (local.set $tap (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $C4)))
                      (local.set $j (i32.const 0))
                      (loop $c
                        (local.set $p (i32.add (i32.add (local.get $dx) (local.get $xPix)) (local.get $j)))
                        (v128.store (local.get $p)
                          (f32x4.add (v128.load (local.get $p))
                            (f32x4.mul (v128.load (i32.add (i32.add (local.get $dy) (local.get $dyRow)) (local.get $j)))
                                       (v128.load (i32.add (i32.add (local.get $w) (local.get $tap)) (local.get $j))))))
                        (local.set $j (i32.add (local.get $j) (i32.const 16)))
                        (br_if $c (i32.lt_u (local.get $j) (local.get $C4))))))
                  (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                  (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $KW))))))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br_if $khLoop (i32.lt_s (local.get $kh) (local.get $KH))))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br_if $owLoop (i32.lt_s (local.get $ow) (local.get $OW))))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br_if $ohLoop (i32.lt_s (local.get $oh) (local.get $OH))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $nLoop (i32.lt_s (local.get $n) (local.get $N)))))

  ;; Depthwise convolution, forward (NHWC, multiplier 1, dilation 1):
  ;; y[n,oh,ow,c] = Σ x[n,ih,iw,c]·w[kh,kw,c] over the taps inside the image.
  ;; geom as depthwiseInputGradient's. Each output pixel's channels are summed in
  ;; registers, 16 at a time, over the valid taps only (the bounds are worked
  ;; out once per pixel, not per tap), then stored once.
  (func (export "depthwiseForward") (param $x i32) (param $w i32) (param $y i32) (param $geom i32)
    (local $N i32) (local $H i32) (local $W i32) (local $C4 i32) (local $OH i32) (local $OW i32)
    (local $KH i32) (local $KW i32) (local $SH i32) (local $SW i32) (local $PT i32) (local $PL i32)
    (local $n i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32)
    (local $ih0 i32) (local $iw0 i32) (local $kh0 i32) (local $kh1 i32) (local $kw0 i32) (local $kw1 i32)
    (local $yp i32) (local $j i32) (local $j64 i32) (local $px i32) (local $pw i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $N (i32.load offset=0 (local.get $geom)))
    (local.set $H (i32.load offset=4 (local.get $geom)))
    (local.set $W (i32.load offset=8 (local.get $geom)))
    (local.set $C4 (i32.shl (i32.load offset=12 (local.get $geom)) (i32.const 2)))
    (local.set $OH (i32.load offset=16 (local.get $geom)))
    (local.set $OW (i32.load offset=20 (local.get $geom)))
    (local.set $KH (i32.load offset=24 (local.get $geom)))
    (local.set $KW (i32.load offset=28 (local.get $geom)))
    (local.set $SH (i32.load offset=32 (local.get $geom)))
    (local.set $SW (i32.load offset=36 (local.get $geom)))
    (local.set $PT (i32.load offset=40 (local.get $geom)))
    (local.set $PL (i32.load offset=44 (local.get $geom)))
    ;; bytes of channels handled 16 at a time; the rest (a multiple of 4 channels) 4 at a time
    (local.set $j64 (i32.and (local.get $C4) (i32.const -64)))
    (local.set $yp (local.get $y))
    (local.set $n (i32.const 0))
    (loop $nLoop
      (local.set $oh (i32.const 0))
      (loop $ohLoop
        (local.set $ih0 (i32.sub (i32.mul (local.get $oh) (local.get $SH)) (local.get $PT)))
        (local.set $kh0 (select (i32.sub (i32.const 0) (local.get $ih0)) (i32.const 0) (i32.lt_s (local.get $ih0) (i32.const 0))))
        (local.set $kh1 (i32.sub (local.get $H) (local.get $ih0)))
        (if (i32.gt_s (local.get $kh1) (local.get $KH)) (then (local.set $kh1 (local.get $KH))))
        (local.set $ow (i32.const 0))
        (loop $owLoop
          (local.set $iw0 (i32.sub (i32.mul (local.get $ow) (local.get $SW)) (local.get $PL)))
          (local.set $kw0 (select (i32.sub (i32.const 0) (local.get $iw0)) (i32.const 0) (i32.lt_s (local.get $iw0) (i32.const 0))))
          (local.set $kw1 (i32.sub (local.get $W) (local.get $iw0)))
          (if (i32.gt_s (local.get $kw1) (local.get $KW)) (then (local.set $kw1 (local.get $KW))))
          (local.set $j (i32.const 0))
          (block $wideDone
            (loop $wide
              (br_if $wideDone (i32.ge_u (local.get $j) (local.get $j64)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $a1 (v128.const i32x4 0 0 0 0))
              (local.set $a2 (v128.const i32x4 0 0 0 0))
              (local.set $a3 (v128.const i32x4 0 0 0 0))
              (local.set $kh (local.get $kh0))
              (block $khDone
                (loop $khLoop
                  (br_if $khDone (i32.ge_s (local.get $kh) (local.get $kh1)))
                  ;; x[n, ih0 + kh, iw0 + kw0, j] and w[kh, kw0, j]
                  (local.set $px (i32.add (i32.add (local.get $x) (local.get $j))
                    (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (i32.add (local.get $ih0) (local.get $kh))) (local.get $W))
                                      (i32.add (local.get $iw0) (local.get $kw0))) (local.get $C4))))
                  (local.set $pw (i32.add (i32.add (local.get $w) (local.get $j))
                    (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw0)) (local.get $C4))))
                  (local.set $kw (local.get $kw0))
                  (block $kwDone
                    (loop $kwLoop
                      (br_if $kwDone (i32.ge_s (local.get $kw) (local.get $kw1)))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $px)) (v128.load (local.get $pw)))))
                      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $px)) (v128.load offset=16 (local.get $pw)))))
                      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $px)) (v128.load offset=32 (local.get $pw)))))
                      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $px)) (v128.load offset=48 (local.get $pw)))))
                      (local.set $px (i32.add (local.get $px) (local.get $C4)))
                      (local.set $pw (i32.add (local.get $pw) (local.get $C4)))
                      (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                      (br $kwLoop)))
                  (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                  (br $khLoop)))
              (v128.store (i32.add (local.get $yp) (local.get $j)) (local.get $a0))
              (v128.store offset=16 (i32.add (local.get $yp) (local.get $j)) (local.get $a1))
              (v128.store offset=32 (i32.add (local.get $yp) (local.get $j)) (local.get $a2))
              (v128.store offset=48 (i32.add (local.get $yp) (local.get $j)) (local.get $a3))
              (local.set $j (i32.add (local.get $j) (i32.const 64)))
              (br $wide)))
          (block $narrowDone
            (loop $narrow
              (br_if $narrowDone (i32.ge_u (local.get $j) (local.get $C4)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $kh (local.get $kh0))
              (block $khDone1
                (loop $khLoop1
                  (br_if $khDone1 (i32.ge_s (local.get $kh) (local.get $kh1)))
                  (local.set $px (i32.add (i32.add (local.get $x) (local.get $j))
                    (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (i32.add (local.get $ih0) (local.get $kh))) (local.get $W))
                                      (i32.add (local.get $iw0) (local.get $kw0))) (local.get $C4))))
                  (local.set $pw (i32.add (i32.add (local.get $w) (local.get $j))
                    (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw0)) (local.get $C4))))
                  (local.set $kw (local.get $kw0))
                  (block $kwDone1
                    (loop $kwLoop1
                      (br_if $kwDone1 (i32.ge_s (local.get $kw) (local.get $kw1)))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $px)) (v128.load (local.get $pw)))))
                      (local.set $px (i32.add (local.get $px) (local.get $C4)))
                      (local.set $pw (i32.add (local.get $pw) (local.get $C4)))
                      (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                      (br $kwLoop1)))
                  (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                  (br $khLoop1)))
              (v128.store (i32.add (local.get $yp) (local.get $j)) (local.get $a0))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $narrow)))
          (local.set $yp (i32.add (local.get $yp) (local.get $C4)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br_if $owLoop (i32.lt_s (local.get $ow) (local.get $OW))))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br_if $ohLoop (i32.lt_s (local.get $oh) (local.get $OH))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $nLoop (i32.lt_s (local.get $n) (local.get $N)))))

  ;; Depthwise convolution, filter gradient (NHWC, multiplier 1, dilation 1):
  ;; dw[kh,kw,c] = Σ x[n, oh·SH+kh−PT, ow·SW+kw−PL, c]·dy[n,oh,ow,c].
  ;; geom as depthwiseInputGradient's. For each output row and tap the sum over the
  ;; row's valid pixels runs in registers, 16 channels at a time, and dw is
  ;; read and written once per row and tap instead of once per pixel and tap.
  (func (export "depthwiseFilterGradient") (param $x i32) (param $dy i32) (param $dw i32) (param $geom i32)
    (local $N i32) (local $H i32) (local $W i32) (local $C4 i32) (local $OH i32) (local $OW i32)
    (local $KH i32) (local $KW i32) (local $SH i32) (local $SW i32) (local $PT i32) (local $PL i32)
    (local $n i32) (local $oh i32) (local $kh i32) (local $kw i32) (local $ow i32)
    (local $ih0 i32) (local $kh0 i32) (local $kh1 i32) (local $lo i32) (local $hi i32)
    (local $dyRow i32) (local $xRow i32) (local $tap i32) (local $j i32) (local $j64 i32)
    (local $px i32) (local $pd i32) (local $stepX i32) (local $q i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $N (i32.load offset=0 (local.get $geom)))
    (local.set $H (i32.load offset=4 (local.get $geom)))
    (local.set $W (i32.load offset=8 (local.get $geom)))
    (local.set $C4 (i32.shl (i32.load offset=12 (local.get $geom)) (i32.const 2)))
    (local.set $OH (i32.load offset=16 (local.get $geom)))
    (local.set $OW (i32.load offset=20 (local.get $geom)))
    (local.set $KH (i32.load offset=24 (local.get $geom)))
    (local.set $KW (i32.load offset=28 (local.get $geom)))
    (local.set $SH (i32.load offset=32 (local.get $geom)))
    (local.set $SW (i32.load offset=36 (local.get $geom)))
    (local.set $PT (i32.load offset=40 (local.get $geom)))
    (local.set $PL (i32.load offset=44 (local.get $geom)))
    (local.set $j64 (i32.and (local.get $C4) (i32.const -64)))
    (local.set $stepX (i32.mul (local.get $SW) (local.get $C4)))
    (memory.fill (local.get $dw) (i32.const 0) (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $C4)))
    (local.set $n (i32.const 0))
    (loop $nLoop
      (local.set $oh (i32.const 0))
      (loop $ohLoop
        (local.set $ih0 (i32.sub (i32.mul (local.get $oh) (local.get $SH)) (local.get $PT)))
        (local.set $kh0 (select (i32.sub (i32.const 0) (local.get $ih0)) (i32.const 0) (i32.lt_s (local.get $ih0) (i32.const 0))))
        (local.set $kh1 (i32.sub (local.get $H) (local.get $ih0)))
        (if (i32.gt_s (local.get $kh1) (local.get $KH)) (then (local.set $kh1 (local.get $KH))))
        (local.set $dyRow (i32.add (local.get $dy) (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $oh)) (local.get $OW)) (local.get $C4))))
        (local.set $kh (local.get $kh0))
        (block $khDone
          (loop $khLoop
            (br_if $khDone (i32.ge_s (local.get $kh) (local.get $kh1)))
            (local.set $xRow (i32.add (local.get $x) (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (i32.add (local.get $ih0) (local.get $kh))) (local.get $W)) (local.get $C4))))
            (local.set $kw (i32.const 0))
            (loop $kwLoop
              ;; the row's pixels whose tap kw falls inside the image: lo ≤ ow < hi
              (local.set $q (i32.sub (local.get $PL) (local.get $kw)))
              (local.set $lo (select (i32.div_s (i32.add (local.get $q) (i32.sub (local.get $SW) (i32.const 1))) (local.get $SW)) (i32.const 0) (i32.gt_s (local.get $q) (i32.const 0))))
              (local.set $hi (i32.div_s (i32.add (i32.add (local.get $W) (local.get $q)) (i32.sub (local.get $SW) (i32.const 1))) (local.get $SW)))
              (if (i32.gt_s (local.get $hi) (local.get $OW)) (then (local.set $hi (local.get $OW))))
              (if (i32.lt_s (local.get $lo) (local.get $hi))
                (then
                  (local.set $tap (i32.add (local.get $dw) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $C4))))
                  (local.set $j (i32.const 0))
                  (block $wideDone
                    (loop $wide
                      (br_if $wideDone (i32.ge_u (local.get $j) (local.get $j64)))
                      (local.set $a0 (v128.const i32x4 0 0 0 0))
                      (local.set $a1 (v128.const i32x4 0 0 0 0))
                      (local.set $a2 (v128.const i32x4 0 0 0 0))
                      (local.set $a3 (v128.const i32x4 0 0 0 0))
                      (local.set $px (i32.add (i32.add (local.get $xRow) (local.get $j))
                        (i32.mul (i32.sub (i32.add (i32.mul (local.get $lo) (local.get $SW)) (local.get $kw)) (local.get $PL)) (local.get $C4))))
                      (local.set $pd (i32.add (i32.add (local.get $dyRow) (local.get $j)) (i32.mul (local.get $lo) (local.get $C4))))
                      (local.set $ow (local.get $lo))
                      (loop $owLoop
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $px)) (v128.load (local.get $pd)))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $px)) (v128.load offset=16 (local.get $pd)))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $px)) (v128.load offset=32 (local.get $pd)))))
                        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $px)) (v128.load offset=48 (local.get $pd)))))
                        (local.set $px (i32.add (local.get $px) (local.get $stepX)))
                        (local.set $pd (i32.add (local.get $pd) (local.get $C4)))
                        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                        (br_if $owLoop (i32.lt_s (local.get $ow) (local.get $hi))))
                      (local.set $px (i32.add (local.get $tap) (local.get $j)))
                      (v128.store (local.get $px) (f32x4.add (v128.load (local.get $px)) (local.get $a0)))
                      (v128.store offset=16 (local.get $px) (f32x4.add (v128.load offset=16 (local.get $px)) (local.get $a1)))
                      (v128.store offset=32 (local.get $px) (f32x4.add (v128.load offset=32 (local.get $px)) (local.get $a2)))
                      (v128.store offset=48 (local.get $px) (f32x4.add (v128.load offset=48 (local.get $px)) (local.get $a3)))
                      (local.set $j (i32.add (local.get $j) (i32.const 64)))
                      (br $wide)))
                  (block $narrowDone
                    (loop $narrow
                      (br_if $narrowDone (i32.ge_u (local.get $j) (local.get $C4)))
                      (local.set $a0 (v128.const i32x4 0 0 0 0))
                      (local.set $px (i32.add (i32.add (local.get $xRow) (local.get $j))
                        (i32.mul (i32.sub (i32.add (i32.mul (local.get $lo) (local.get $SW)) (local.get $kw)) (local.get $PL)) (local.get $C4))))
                      (local.set $pd (i32.add (i32.add (local.get $dyRow) (local.get $j)) (i32.mul (local.get $lo) (local.get $C4))))
                      (local.set $ow (local.get $lo))
                      (loop $owLoop1
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $px)) (v128.load (local.get $pd)))))
                        (local.set $px (i32.add (local.get $px) (local.get $stepX)))
                        (local.set $pd (i32.add (local.get $pd) (local.get $C4)))
                        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                        (br_if $owLoop1 (i32.lt_s (local.get $ow) (local.get $hi))))
                      (local.set $px (i32.add (local.get $tap) (local.get $j)))
                      (v128.store (local.get $px) (f32x4.add (v128.load (local.get $px)) (local.get $a0)))
                      (local.set $j (i32.add (local.get $j) (i32.const 16)))
                      (br $narrow)))))
              (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
              (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $KW))))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br $khLoop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br_if $ohLoop (i32.lt_s (local.get $oh) (local.get $OH))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $nLoop (i32.lt_s (local.get $n) (local.get $N)))))

  ;; Hard-swish, y = x·(relu6(x + 3)·⅙), over n floats (n % 4 == 0). The
  ;; operations and their order are those of the unfused tfjs ops, so the
  ;; values are the same to the bit.
  (func (export "hardSwish") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $y)
        (f32x4.mul (local.get $v)
          (f32x4.mul
            (f32x4.min (f32x4.max (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6))
            (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; Its gradient as tfjs's autograd forms it from the unfused ops:
  ;; out = dy·r + ((0 < x + 3 < 6) ? (dy·x)·⅙ : 0), r = relu6(x + 3)·⅙.
  (func (export "hardSwishGrad") (param $x i32) (param $dy i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $d v128) (local $s v128) (local $sixth v128)
    (local.set $sixth (v128.const f32x4 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3 0x1.555556p-3))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $d (v128.load (local.get $dy)))
      (local.set $s (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3)))
      (v128.store (local.get $out)
        (f32x4.add
          (f32x4.mul (local.get $d)
            (f32x4.mul (f32x4.min (f32x4.max (local.get $s) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 6 6 6 6)) (local.get $sixth)))
          (v128.and
            (f32x4.mul (f32x4.mul (local.get $d) (local.get $v)) (local.get $sixth))
            (v128.and (f32x4.gt (local.get $s) (v128.const f32x4 0 0 0 0)) (f32x4.lt (local.get $s) (v128.const f32x4 6 6 6 6))))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $l))))
)
