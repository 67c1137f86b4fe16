"""java: its benchmark toolchain and its workspace projects."""
