#!/bin/sh
# Trim the base system for the container image's final stage (the Containerfile's
# "runtime" stage): the image must stay under 250 MB (issue 24). The builder stage keeps
# the untouched base (apt, venv, ensurepip need it); the final image only runs
# `guardwire serve` from /opt/guardwire, so what only installs, builds or documents
# software goes. Each step says why it is safe. Run as root, after the user is made.
set -eu
cd /

# Package management (~10 MB with its caches): the image is immutable, extend it by
# building a new one. /var/lib/dpkg/status stays: image scanners list packages from it.
rm -rf /etc/apt /usr/lib/apt /var/lib/apt /var/cache/apt /var/cache/debconf \
  /usr/bin/apt /usr/bin/apt-* /usr/lib/*-linux-gnu/libapt-* \
  /var/lib/dpkg/info/*.md5sums /var/lib/dpkg/info/*.symbols /var/lib/dpkg/info/*.shlibs \
  /var/lib/dpkg/info/*.templates

# Perl (~9 MB): only dpkg's maintainer scripts and debconf use it, and they never run here.
rm -rf /usr/bin/perl /usr/bin/perl5.* /usr/lib/*-linux-gnu/perl-base /usr/share/perl5

# glibc's iconv modules (~8 MB): Python's codecs are its own, nothing calls iconv(3).
# libmvec (glibc's vector maths): no library in the image links it (numpy brings its own).
rm -rf /usr/lib/*-linux-gnu/gconv /usr/lib/*-linux-gnu/libmvec.so*

# ext2/3/4 file-system tools: a container never makes or checks file systems.
for tool in badblocks debugfs dumpe2fs e2freefrag e2fsck e2image e2label e2mmpstatus \
  e2undo e4crypt e4defrag filefrag fsck.ext2 fsck.ext3 fsck.ext4 logsave mke2fs \
  mkfs.ext2 mkfs.ext3 mkfs.ext4 mklost+found resize2fs tune2fs; do
  rm -f "/usr/sbin/$tool"
done

# Libraries only apt and the tools above linked (~6 MB): GnuTLS and what it alone uses.
# (Found by listing each ELF file's NEEDED entries after the removals above: nothing
# left in the image needs these sonames; libidn2 is dlopened by glibc only for AI_IDN,
# which Python never passes.)
for library in libgnutls.so libp11-kit.so libtasn1.so libhogweed.so libnettle.so \
  libunistring.so libidn2.so libext2fs.so libss.so; do
  rm -f /usr/lib/*-linux-gnu/"$library".*
done

# Python's stdlib parts guardwire and its dependencies never import (checked with a
# sys.modules dump of the server after a PII call): the test suite, the IDE and Tk,
# 2to3, pydoc's topics, distutils, and the installers (the venv is made in the builder).
# Debian's python3 lives in /usr/lib, python:3.x-slim's in /usr/local/lib.
for python in /usr/lib/python3.* /usr/local/lib/python3.*; do
  [ -d "$python" ] || continue
  rm -rf "$python"/test "$python"/idlelib "$python"/tkinter "$python"/turtledemo \
    "$python"/lib2to3 "$python"/pydoc_data "$python"/distutils "$python"/ensurepip \
    "$python"/venv
done
rm -rf /usr/share/python-wheels

# Documentation, manuals, translations, shell completion; zoneinfo stays (budgets'
# windows use time zones).
rm -rf /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /usr/share/i18n \
  /usr/share/lintian /usr/share/bash-completion /var/log/*

# The openssl command line tool (the ssl module uses libssl, not the tool).
rm -f /usr/bin/openssl
