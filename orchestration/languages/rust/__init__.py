"""rust: its benchmark toolchain and its workspace projects."""
