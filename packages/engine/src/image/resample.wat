;; Pillow's separable resampling passes for 8-bit RGB (libImaging/Resample.c,
;; ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc) with WASM SIMD: the same
;; int32 sums of uint8 * 22-bit fixed-point taps, started at 1 << 21 and clipped to 0..255 after
;; `>> 22`, so the bytes are Pillow's. resample_wasm.ts computes the taps, lays out the memory
;; and calls these; resample_wasm_bytes.ts is this file assembled
;; (`node packages/engine/scripts/assemble-resample-wasm.mjs`).
;;
;; Taps are "uniform": every output pixel reads exactly `n` inputs from `first[i]` (windows at
;; the borders are shifted inwards and padded with zero taps, which add nothing to the sums).
;; Both passes may read up to 15 bytes past their source and write up to 15 bytes past their
;; output: the caller leaves 16 spare bytes after each region.
(module
  (memory (export "memory") 1)

  ;; Resamples `rows` rows of RGB pixels (row i at src + i * srcStride) to `outWidth` pixels
  ;; each, written contiguously at dst. One i32x4 holds R, G, B and a lane that is ignored.
  (func (export "horizontal")
    (param $src i32) (param $srcStride i32) (param $rows i32) (param $dst i32)
    (param $outWidth i32) (param $first i32) (param $taps i32) (param $n i32)
    (local $row i32) (local $x i32) (local $p i32) (local $t i32) (local $tEnd i32)
    (local $acc v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (local.set $row (local.get $src))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.eqz (local.get $rows)))
        (local.set $x (i32.const 0))
        (local.set $t (local.get $taps))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $x) (local.get $outWidth)))
            (local.set $p
              (i32.add (local.get $row)
                (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $x) (i32.const 2))))
                  (i32.const 3))))
            (local.set $tEnd (i32.add (local.get $t) (i32.shl (local.get $n) (i32.const 2))))
            (local.set $acc (local.get $half))
            ;; Two taps per turn while two remain, then the last one.
            (block $pairsDone
              (loop $pairLoop
                (br_if $pairsDone (i32.gt_u (i32.add (local.get $t) (i32.const 8)) (local.get $tEnd)))
                (local.set $acc
                  (i32x4.add
                    (i32x4.add (local.get $acc)
                      (i32x4.mul
                        (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                        (i32x4.splat (i32.load (local.get $t)))))
                    (i32x4.mul
                      (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero offset=3 (local.get $p))))
                      (i32x4.splat (i32.load offset=4 (local.get $t))))))
                (local.set $p (i32.add (local.get $p) (i32.const 6)))
                (local.set $t (i32.add (local.get $t) (i32.const 8)))
                (br $pairLoop)))
            (if (i32.lt_u (local.get $t) (local.get $tEnd))
              (then
                (local.set $acc
                  (i32x4.add (local.get $acc)
                    (i32x4.mul
                      (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                      (i32x4.splat (i32.load (local.get $t))))))
                (local.set $t (i32.add (local.get $t) (i32.const 4)))))
            ;; Clip to 0..255 by saturating narrows; the 4th byte is overwritten by the next pixel.
            (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
            (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
            (i32.store (local.get $dst)
              (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $colLoop)))
        (local.set $row (i32.add (local.get $row) (local.get $srcStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rowLoop))))

  ;; Resamples columns: output row y (stride bytes at dst + y * stride) sums source rows
  ;; first[y] .. first[y] + n - 1 (at src + row * stride) with taps[y * n ..], 16 bytes a turn.
  (func (export "vertical")
    (param $src i32) (param $stride i32) (param $outHeight i32) (param $dst i32)
    (param $first i32) (param $taps i32) (param $n i32)
    (local $y i32) (local $c i32) (local $base i32) (local $p i32) (local $t i32) (local $tEnd i32)
    (local $w v128) (local $v v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $outHeight)))
        (local.set $base
          (i32.add (local.get $src)
            (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $y) (i32.const 2))))
              (local.get $stride))))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $c) (local.get $stride)))
            (local.set $a0 (local.get $half))
            (local.set $a1 (local.get $half))
            (local.set $a2 (local.get $half))
            (local.set $a3 (local.get $half))
            (local.set $p (i32.add (local.get $base) (local.get $c)))
            (local.set $t (i32.add (local.get $taps) (i32.shl (i32.mul (local.get $y) (local.get $n)) (i32.const 2))))
            (local.set $tEnd (i32.add (local.get $t) (i32.shl (local.get $n) (i32.const 2))))
            (loop $tapLoop
              (local.set $w (i32x4.splat (i32.load (local.get $t))))
              (local.set $v (v128.load (local.get $p)))
              (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
              (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
              (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
              (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
              (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
              (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br_if $tapLoop (i32.lt_u (local.get $t) (local.get $tEnd))))
            (v128.store
              (i32.add (local.get $dst) (local.get $c))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a0) (i32.const 22))
                  (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $a2) (i32.const 22))
                  (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $colLoop)))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))
)
