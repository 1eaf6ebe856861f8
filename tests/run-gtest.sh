#!/bin/sh
# Runs one GTest binary with TAP output for automake's tap-driver.
exec "$@" --tap
