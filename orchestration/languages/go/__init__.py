"""go: its benchmark toolchain and its workspace projects."""
