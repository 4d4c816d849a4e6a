/* Constants shared by the boot assembly files (Intel SDM vol. 3A §2.5, §4.5). */
#ifndef BOOT_BOOT_ASM_H
#define BOOT_BOOT_ASM_H

#define CR0_PE   0x00000001
#define CR0_WP   0x00010000
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define PTE_P    0x001
#define PTE_W    0x002
#define PTE_PS   0x080

#define BOOT_CS64 0x08
#define BOOT_DS   0x10
#define COM1_PORT 0x3f8
#define BOOT_STACK_SIZE 0x4000   /* frames are at most 1.2 KiB (gcc -fstack-usage): room for the deepest chain */

#endif
