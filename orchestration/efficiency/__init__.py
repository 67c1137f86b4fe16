"""Speed as a measured quantity (issue 14): ENAMEL's efficiency tasks joined with HumanEvalPack, in-process
timing harnesses, and the verdict that decides whether one version is faster than another."""
