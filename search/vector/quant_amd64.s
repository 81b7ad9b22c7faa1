//go:build !purego

#include "textflag.h"

// popcntLUT holds the popcount of each nibble, twice (one per 128-bit lane,
// as VPSHUFB looks up within lanes); nibbleMask is 0x0f in every byte.
DATA popcntLUT<>+0(SB)/8, $0x0302020102010100
DATA popcntLUT<>+8(SB)/8, $0x0403030203020201
DATA popcntLUT<>+16(SB)/8, $0x0302020102010100
DATA popcntLUT<>+24(SB)/8, $0x0403030203020201
GLOBL popcntLUT<>(SB), RODATA|NOPTR, $32

DATA nibbleMask<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nibbleMask<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nibbleMask<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nibbleMask<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nibbleMask<>(SB), RODATA|NOPTR, $32

// POPCNT8 replaces each byte of x by its popcount (t is clobbered): the low
// and high nibbles are looked up in lut and added.
#define POPCNT8(x, t, mask, lut) \
	VPSRLW  $4, x, t     \
	VPAND   mask, x, x   \
	VPAND   mask, t, t   \
	VPSHUFB x, lut, x    \
	VPSHUFB t, lut, t    \
	VPADDB  t, x, x

// WORDSTEP adds to Y0 the byte popcounts of the next n bytes of the row
// (at SI) XORed with q's (at AX), in x (Y1 or its low half X1; t, mask
// and lut of the same width), and moves SI and AX on.
#define WORDSTEP(x, t, mask, lut, n) \
	VMOVDQU (SI), x           \
	VPXOR   (AX), x, x        \
	POPCNT8(x, t, mask, lut)  \
	VPADDB  Y1, Y0, Y0        \
	ADDQ    $n, SI            \
	ADDQ    $n, AX

// EMIT1 writes row R10 and its distance d at rows[n], dists[n] (DI, R12,
// n in R11), advances n when d is below thr (R13) and moves R10 on.
#define EMIT1(d) \
	MOVL R10, (DI)(R11*4) \
	MOVL d, (R12)(R11*4)  \
	CMPQ d, R13           \
	ADCQ $0, R11          \
	INCQ R10

// func hammingBelowAVX2(rows, dists *uint32, codes, q *uint64, nrows, nw int, thr uint32) (n int)
//
// Registers: DI rows, R12 dists, SI the next code word, R9 q, DX rows not
// yet started, R10 the next row to emit, R11 n, R13 thr, BX the size of
// the current group (1 to 4), R8 rows of the group left to popcount, CX
// words of the row left, AX the position in q (then the packed distances).
// Y0 accumulates a row's byte counts, Y12 the group's packed distances,
// Y13 is zero, Y14 popcntLUT, Y15 nibbleMask. In quad6, Y0–Y6 are the
// four rows' vectors and sums, Y7 thr in each 64-bit lane, Y10–Y12 q's
// bytes in three alignments, and emit4 takes the distances into AX, BX,
// CX, R8.
TEXT ·hammingBelowAVX2(SB), NOSPLIT, $0-64
	MOVQ rows+0(FP), DI
	MOVQ dists+8(FP), R12
	MOVQ codes+16(FP), SI
	MOVQ q+24(FP), R9
	MOVQ nrows+32(FP), DX
	MOVL thr+48(FP), R13
	XORQ R10, R10
	XORQ R11, R11
	VMOVDQU popcntLUT<>(SB), Y14
	VMOVDQU nibbleMask<>(SB), Y15
	VPXOR   Y13, Y13, Y13

	// Dimension 384 (nw = 6) has a straight-line row with q in Y10, X11,
	// and before it a loop over four rows at a time (quad6).
	CMPQ        nw+40(FP), $6
	JNE         group
	VMOVDQU     (R9), Y10
	VMOVDQU     32(R9), X11
	VINSERTI128 $1, (R9), Y11, Y11
	VMOVDQU     16(R9), Y12
	VMOVQ       R13, X7
	VPBROADCASTQ X7, Y7

	// Four rows of 48 bytes are six 32-byte vectors, XORed with q's
	// bytes 0–31 (Y10), 32–47 then 0–15 (Y11), and 16–47 (Y12), twice.
	// Rows 0 and 1 are in Y0–Y2: lanes (0.lo, 0.hi, 1.lo) are row 0's,
	// (1.hi, 2.lo, 2.hi) row 1's; a lane swap lines them up, so one byte
	// add and one VPSADBW give both rows' sums in two 64-bit halves each;
	// likewise rows 2 and 3 in Y3–Y5. The four distances, as (0, 2, 1,
	// 3) in Y1, are compared with thr at once: a group with no row below
	// it (most of a scan) is skipped without writing rows or dists.
quad6:
	CMPQ        DX, $4
	JB          group
	VPXOR       (SI), Y10, Y0
	VPXOR       32(SI), Y11, Y1
	VPXOR       64(SI), Y12, Y2
	VPXOR       96(SI), Y10, Y3
	VPXOR       128(SI), Y11, Y4
	VPXOR       160(SI), Y12, Y5
	POPCNT8(Y0, Y6, Y15, Y14)
	POPCNT8(Y1, Y6, Y15, Y14)
	POPCNT8(Y2, Y6, Y15, Y14)
	POPCNT8(Y3, Y6, Y15, Y14)
	POPCNT8(Y4, Y6, Y15, Y14)
	POPCNT8(Y5, Y6, Y15, Y14)
	VPERM2I128  $0x20, Y2, Y0, Y6 // (Y0.lo, Y2.lo)
	VPERM2I128  $0x31, Y2, Y0, Y0 // (Y0.hi, Y2.hi)
	VPADDB      Y6, Y0, Y0
	VPADDB      Y1, Y0, Y0        // row 0's byte counts, then row 1's
	VPSADBW     Y13, Y0, Y0
	VPERM2I128  $0x20, Y5, Y3, Y6
	VPERM2I128  $0x31, Y5, Y3, Y3
	VPADDB      Y6, Y3, Y3
	VPADDB      Y4, Y3, Y3        // row 2's, then row 3's
	VPSADBW     Y13, Y3, Y3
	VPUNPCKLQDQ Y3, Y0, Y1
	VPUNPCKHQDQ Y3, Y0, Y2
	VPADDQ      Y2, Y1, Y1        // distances of rows 0, 2, 1, 3
	VPCMPGTQ    Y1, Y7, Y2        // thr > distance
	VPMOVMSKB   Y2, AX
	ADDQ        $192, SI
	SUBQ        $4, DX
	TESTL       AX, AX
	JNZ         emit4
	ADDQ        $4, R10
	JMP         quad6

emit4:
	VMOVQ        X1, AX
	VPEXTRQ      $1, X1, BX
	VEXTRACTI128 $1, Y1, X2
	VMOVQ        X2, CX
	VPEXTRQ      $1, X2, R8
	EMIT1(AX)
	EMIT1(CX)
	EMIT1(BX)
	EMIT1(R8)
	JMP          quad6

group:
	TESTQ   DX, DX
	JZ      done
	MOVQ    $4, BX
	CMPQ    DX, BX
	CMOVQLT DX, BX
	SUBQ    BX, DX
	MOVQ    BX, R8
	VPXOR   Y12, Y12, Y12

row:
	CMPQ nw+40(FP), $6
	JEQ  row6
	MOVQ  nw+40(FP), CX
	MOVQ  R9, AX
	VPXOR Y0, Y0, Y0

words4:
	CMPQ CX, $4
	JB   words2
	WORDSTEP(Y1, Y2, Y15, Y14, 32)
	SUBQ $4, CX
	JMP  words4

words2:
	// VEX-encoded XMM instructions zero the upper half of their
	// destination, so Y1 below holds counts in its low half only.
	CMPQ CX, $2
	JB   words1
	WORDSTEP(X1, X2, X15, X14, 16)
	SUBQ $2, CX

words1:
	TESTQ  CX, CX
	JZ     rowdone
	VMOVQ  (SI), X1
	VMOVQ  (AX), X2
	VPXOR  X2, X1, X1
	POPCNT8(X1, X2, X15, X14)
	VPADDB Y1, Y0, Y0
	ADDQ   $8, SI

	JMP    rowdone

row6:
	VMOVDQU (SI), Y0
	VPXOR   Y10, Y0, Y0
	POPCNT8(Y0, Y2, Y15, Y14)
	VMOVDQU 32(SI), X1
	VPXOR   X11, X1, X1
	POPCNT8(X1, X3, X15, X14)
	VPADDB  Y1, Y0, Y0
	ADDQ    $48, SI

rowdone:
	// Sum the byte counts per 64-bit lane and shift them into the top
	// 16 bits of Y12's lanes, the group's earlier rows moving down: after
	// four rows, row j of the group is in bits 16j to 16j+15.
	VPSADBW Y13, Y0, Y0
	VPSRLQ  $16, Y12, Y12
	VPSLLQ  $48, Y0, Y0
	VPOR    Y0, Y12, Y12
	DECQ    R8
	JNZ     row

	// One horizontal sum for the group. A field holds at most 64·nw
	// ≤ 4096, so the fields' sums do not carry into each other.
	VEXTRACTI128 $1, Y12, X0
	VPADDQ       X0, X12, X12
	VPSHUFD      $0x4e, X12, X0
	VPADDQ       X0, X12, X12
	VMOVQ        X12, AX

	// A group of BX < 4 rows has them in the top BX fields.
	MOVQ $4, CX
	SUBQ BX, CX
	SHLQ $4, CX
	SHRQ CX, AX

emit:
	MOVWQZX AX, CX
	EMIT1(CX)
	SHRQ    $16, AX
	DECQ    BX
	JNZ     emit
	JMP     group

done:
	VZEROUPPER
	MOVQ R11, n+56(FP)
	RET

// HSUMD sums the eight int32 lanes of y (x its low half) into the low
// lane of x (t is clobbered).
#define HSUMD(y, x, t) \
	VEXTRACTI128 $1, y, t \
	VPADDD       t, x, x  \
	VPSHUFD      $0x4e, x, t \
	VPADDD       t, x, x  \
	VPSHUFD      $0xb1, x, t \
	VPADDD       t, x, x

// func dotInt8x4AVX2(q, a, b, c, d *int8, n int, out *[4]int32)
//
// Registers: SI q, R8–R11 a–d, CX n, AX the position, DI out; Y0–Y3 the
// four rows' int32 sums, Y4 q's 16 elements as int16, Y5–Y8 the rows'.
TEXT ·dotInt8x4AVX2(SB), NOSPLIT, $0-56
	MOVQ  q+0(FP), SI
	MOVQ  a+8(FP), R8
	MOVQ  b+16(FP), R9
	MOVQ  c+24(FP), R10
	MOVQ  d+32(FP), R11
	MOVQ  n+40(FP), CX
	MOVQ  out+48(FP), DI
	XORQ  AX, AX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

dotloop:
	VPMOVSXBW (SI)(AX*1), Y4
	VPMOVSXBW (R8)(AX*1), Y5
	VPMOVSXBW (R9)(AX*1), Y6
	VPMOVSXBW (R10)(AX*1), Y7
	VPMOVSXBW (R11)(AX*1), Y8
	VPMADDWD  Y4, Y5, Y5
	VPMADDWD  Y4, Y6, Y6
	VPMADDWD  Y4, Y7, Y7
	VPMADDWD  Y4, Y8, Y8
	VPADDD    Y5, Y0, Y0
	VPADDD    Y6, Y1, Y1
	VPADDD    Y7, Y2, Y2
	VPADDD    Y8, Y3, Y3
	ADDQ      $16, AX
	CMPQ      AX, CX
	JB        dotloop

	HSUMD(Y0, X0, X4)
	HSUMD(Y1, X1, X4)
	HSUMD(Y2, X2, X4)
	HSUMD(Y3, X3, X4)
	VMOVD X0, 0(DI)
	VMOVD X1, 4(DI)
	VMOVD X2, 8(DI)
	VMOVD X3, 12(DI)
	VZEROUPPER
	RET
