/* Shared by the files of the Hyper-V ABI, and by the unit tests. */
#ifndef HYPERCALLS_HYPERV_HYPERV_H
#define HYPERCALLS_HYPERV_HYPERV_H

#include "hypercalls/hypercall.h"

/* A decoded hypercall input value (TLFS "Hypercall Inputs"). */
struct hv_input {
	uint16_t code;
	bool fast;
	uint16_t varhead;              /* variable header size, 8-byte units */
	bool nested;
	uint16_t rep_count, rep_start;
};

/* Decodes `input`; HV_STATUS_INVALID_HYPERCALL_INPUT when a reserved bit is set. */
int hv_decode_input(uint64_t input, struct hv_input *in);

#endif
