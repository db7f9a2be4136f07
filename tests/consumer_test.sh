#!/usr/bin/env bash
# Installs diffeo into a prefix, then configures, builds and runs a tiny
# downstream project that uses find_package(diffeo) and diffeo::diffeo.
# usage: consumer_test.sh BUILD_DIR CONSUMER_SOURCE_DIR CXX_COMPILER
set -euo pipefail
build="$1" source="$2" cxx="$3"
work="$build/consumer-test"   # fixed paths, so ccache can hit on reruns
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/diffeo/diffeo.h"
test -f "$work/prefix/lib/cmake/diffeo/diffeoConfig.cmake" ||
  test -f "$work/prefix/lib/x86_64-linux-gnu/cmake/diffeo/diffeoConfig.cmake"
test ! -e "$work/prefix/include/diffeo/testing"
# The Python package, where it was built: it imports from the prefix alone.
if [ -e "$build/python/diffeo/__init__.py" ]; then
  site=$(echo "$work"/prefix/lib/python3*/dist-packages)
  (cd / && PYTHONPATH="$site" /usr/bin/python3 -c \
    'import diffeo; assert diffeo.flows.build("maf", dim=2).sample(3).shape == (3, 2)')
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$source" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/build"
"$work/build/consumer"
