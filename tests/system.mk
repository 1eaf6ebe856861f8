# System tests: real dbus-daemon, dflyd and dflyctl, shell scripts speaking
# TAP through tests/lib.sh. Run by $(SHELL) with the environment from
# tests/local.mk; they need dflyd, dflyctl and build-plugins/ built first.
SYSTEM_TESTS = \
	tests/system/test-control.sh \
	tests/system/test-manager-register.sh \
	tests/system/test-ctl-args.sh \
	tests/system/test-ctl-manager.sh \
	tests/system/test-cert.sh \
	tests/system/test-runtime.sh \
	tests/system/test-proxy.sh \
	tests/system/test-proxy-connect.sh \
	tests/system/test-bus-policy.sh \
	tests/system/test-download.sh \
	tests/system/test-download-big.sh \
	tests/system/test-swarm.sh \
	tests/system/test-swarm-failover.sh \
	tests/system/test-swarm-sources.sh \
	tests/system/test-s3.sh \
	tests/system/test-oci.sh \
	tests/system/test-trust-tls.sh \
	tests/system/test-trust-pieces.sh \
	tests/system/test-trust-scheduler.sh \
	tests/system/test-trust-flood.sh \
	tests/system/test-trust-source.sh \
	tests/system/test-proxy-containerd.sh \
	tests/system/test-proxy-podman.sh \
	tests/system/test-manager-postgres.sh
TESTS += $(SYSTEM_TESTS)
EXTRA_DIST += $(SYSTEM_TESTS)
# Real container clients (containerd, podman, skopeo) through the proxy: their helpers, the
# image fixture (built once per build tree, in tests/oci-cache) and the image benchmark.
EXTRA_DIST += tests/oci-clients.sh tests/oci-image.py tests/bench/bench-image.sh
