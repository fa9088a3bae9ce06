#!/bin/bash
# The demo's lab as a test: a Kamailio proxy with `sipdrain run` in front,
# under load, drained: no new INVITE reaches Kamailio during the drain, no
# call fails or is cut (tests/lab/demo.sh's own verdict and summary), over
# IPv4 and IPv6.  Behind a VLAN tag when the kernel can make VLAN devices.
. "$(dirname "$0")/lib.sh"
need sipp kamailio

variant() {   # variant NAME env...
	local name=$1; shift
	env "$@" DEMO_WARMUP=8 bash "$ROOT/tests/lab/demo.sh" > $WORK/$name.out 2>&1
	local rc=$?
	local kam cut failed
	kam=$(grep 'reached Kamailio during the drain' $WORK/$name.out | awk '{print $NF}')
	cut=$(grep 'cut at the deadline' $WORK/$name.out | awk '{print $NF}')
	failed=$(grep 'completed or refused cleanly / failed' $WORK/$name.out | awk '{print $NF}')
	check "$name: demo exit 0" test $rc -eq 0
	check "$name: 0 new INVITEs reached Kamailio during the drain (got ${kam:-?})" test "${kam:-x}" = 0
	check "$name: 0 calls cut (got ${cut:-?})" test "${cut:-x}" = 0
	check "$name: 0 failed calls at the callers (got ${failed:-?})" test "${failed:-x}" = 0
	check "$name: new INVITEs were answered 503" \
		bash -c "grep 'answered 503 by sipdrain' $WORK/$name.out | awk '{exit !(\$NF > 0)}'"
	[ $rc -eq 0 ] || tail -25 $WORK/$name.out
}

variant ipv4 DEMO_FAMILY=v4
variant ipv6 DEMO_FAMILY=v6
if ip link add sdvl$ID type vlan id 5 link lo >/dev/null 2>&1 || \
   { ip link add sdvp$ID type veth peer name sdvq$ID >/dev/null 2>&1 &&
     ip link add link sdvp$ID name sdvl$ID type vlan id 5 >/dev/null 2>&1; }; then
	fail "vlan: this kernel makes VLAN devices, but the lab has no VLAN variant yet"
else
	echo "  skip vlan: this kernel cannot make VLAN devices (CONFIG_VLAN_8021Q unset); tagged frames are covered by e2e_responder's raw probe"
fi
ip link del sdvl$ID 2>/dev/null; ip link del sdvp$ID 2>/dev/null
finish
