/* A malformed guest: two loadable segments that overlap (linked by overlap.ld). */
	.section .a, "ax"
	.globl _start
_start:
	.fill 64, 1, 0x90
	hlt
	.section .b, "aw"
	.fill 64, 1, 0
