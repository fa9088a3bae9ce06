#!/bin/bash
# The XDP object may only use what Linux 6.1 offers: BPF helpers up to
# bpf_user_ringbuf_drain (id 209), no kfunc calls (6.1's XDP has none we
# could rely on), and load on this kernel with -mcpu=v3.
set -u
obj=${1:-build/sipdrain.bpf.o}
max=209
fail=0; pass=0
dis=$(llvm-objdump -d "$obj") || { echo "cannot disassemble $obj"; echo "0 passed, 1 failed"; exit 1; }
# opcode 0x85 = call; second byte: src_reg<<4 (0 helper, 1 bpf-to-bpf, 2 kfunc)
helpers=$(echo "$dis" | awk '$2=="85" && $3=="00" {for(i=1;i<=NF;i++) if($i=="call") print $(i+1)}' | sort -un)
kfuncs=$(echo "$dis" | awk '$2=="85" && $3=="20"' | wc -l)
for h in $helpers; do
	if [ "$h" -gt "$max" ]; then echo "FAIL helper $h is newer than Linux 6.1"; fail=$((fail+1)); else pass=$((pass+1)); fi
done
if [ "$kfuncs" -ne 0 ]; then echo "FAIL $kfuncs kfunc calls"; fail=$((fail+1)); else pass=$((pass+1)); fi
echo "helpers used: $(echo $helpers | tr '\n' ' ')"
echo "check_helpers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
