#!/bin/sh
# Trim the container image's virtual environment (run in the Containerfile's builder
# stage): the image must stay small (issue 24: < 250 MB), and the core dependencies
# (spaCy, thinc, blis, numpy) weigh ~360 MB as installed. Only what guardwire never
# loads at run time goes; each step says why it is safe.
set -eu
venv="${1:?usage: trim_image_venv.sh VENV}"
site="$(echo "$venv"/lib/python3*/site-packages)"

# Debug symbols and symbol tables of compiled extensions (~140 MB). Not the libraries
# auditwheel vendored into *.libs/: patchelf rewrote their headers, and strip breaks
# them ("ELF load command address/offset not page-aligned").
find "$site" -name '*.so*' -type f ! -path '*.libs/*' -exec strip --strip-unneeded {} +

# Test suites of the dependencies (nothing imports them).
find "$site" -depth -type d \( -name tests -o -name test \) -path "$site/*/*" \
  -exec rm -rf {} +

# Build-time files: C/C++/Cython sources, headers, static libraries, type stubs.
find "$site" -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.c' \
  -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name '*.pyi' -o -name '*.a' \) -delete
rm -rf "$site"/numpy/_core/include

# numpy's build tools (f2py, distutils): they compile extensions, never run in a server.
rm -rf "$site"/numpy/f2py "$site"/numpy/distutils "$venv"/bin/f2py "$venv"/bin/numpy-config

# phonenumbers' geocoding, carrier and time-zone tables (~21 MB): the PII check only
# parses and matches numbers (phonenumbers.PhoneNumberMatcher).
rm -rf "$site"/phonenumbers/geodata "$site"/phonenumbers/carrierdata \
  "$site"/phonenumbers/tzdata

# Bytecode is compiled at start-up into memory (the root filesystem is read-only).
find "$venv" -depth -type d -name __pycache__ -exec rm -rf {} +
