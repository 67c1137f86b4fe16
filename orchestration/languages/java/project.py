"""Java: Maven with JUnit. Dependencies and plugins (the surefire provider too) are resolved once with the
network; candidates run `mvn -o test -Dtest=Class#method+...`, and surefire's XML reports give the counts.

Timing runs the selected tests on the JUnit console launcher instead of Maven: Maven's own start-up
costs seconds of CPU, which would drown the difference between two versions of a function."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from tree_sitter import Node

from ...stubs import FunctionSpan
from ...stubs.trees import Parsed, container_name, enclosing_containers, function_name
from ...workspace.docexamples import Example
from ...workspace.project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase, tool
from . import SPEC, timer

_TEST_ANNOTATION = re.compile(
    r"@(org\.junit\.jupiter\.api\.|org\.junit\.)?(Test|ParameterizedTest|RepeatedTest|TestFactory)\b"
)
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_DOC_TEST_CLASS = "PerforchDocExamplesTest"
_QUIET = ("-B", "-q", "-Dstyle.color=never")
_SELECTED_ONLY = ("-Dsurefire.failIfNoSpecifiedTests=false", "-DfailIfNoTests=false", "-DtrimStackTrace=false")
_PLATFORM_JAR = re.compile(r"junit-platform-(?:commons|engine)-(\d+\.\d+\.\d+)\.jar")
_CONSOLE = "junit-platform-console-standalone"
_PROBE = "PerforchProbeTest"
_TEST_SOURCE_DIRECTORY = re.compile(r"<testSourceDirectory>([^<]+)</testSourceDirectory>")
_COMPILATION_FAILED = re.compile(r"COMPILATION ERROR|Compilation failure")
# What Maven appends to every failure: how to get a stack trace, links to its wiki.
_MAVEN_BOILERPLATE = re.compile(
    r"^\[ERROR\] (?:-> \[Help|To see the full stack trace|Re-run Maven using|For more information about the errors"
    r"|\[Help \d+\]|\s*$)"
)


class MavenProject(ProjectLanguage):
    spec = SPEC
    project_kind = "Maven project"
    markers = ("pom.xml",)
    tools = ("mvn",)
    install_hint = (
        "install Maven 3 (Debian: apt-get install maven); Gradle and plain javac projects are not supported yet"
    )
    runner_name = "mvn test"
    whole_suite_name = "mvn test"
    compile_failure = _COMPILATION_FAILED
    # Maven's words when it cannot download (a host, a proxy, a repository that refuses).
    network_failure = re.compile(
        r"Could not transfer artifact|Unknown ?Host|Connection refused|connect timed out|Network is unreachable"
        r"|Could not resolve host|transfer failed for|status code: [45]\d\d|in offline mode"
    )
    missing_offline = re.compile(r"in offline mode and the artifact (\S+) has not been downloaded")
    failure_start = re.compile(r"<<< (FAILURE|ERROR)!")

    @property
    def _reports(self) -> Path:
        return self.site.tree / "target" / "surefire-reports"

    @property
    def _classpath_file(self) -> Path:
        return self.site.cache / "test-classpath.txt"

    @property
    def _console_dir(self) -> Path:
        return self.site.cache / "junit-console"

    def test_outputs(self) -> tuple[Path, ...]:
        return (self.site.tree / "target",)  # `mvn test` compiles, then tests, in one step

    def fetch(self) -> Iterator[Command]:
        mvn = tool("mvn")
        # The real test phase, online, on a probe test class of no tests: surefire resolves its provider
        # (surefire-junit-platform, -junit4, ...) and the matching JUnit launcher only when it finds a test
        # class to run, which neither dependency:go-offline nor a test phase selecting nothing does. The
        # project's own tests do not run; the classpath is for the console launcher.
        classpath = (
            "dependency:build-classpath",
            f"-Dmdep.outputFile={self._classpath_file}",
            "-Dmdep.includeScope=test",
        )
        probe = self._test_sources / f"{_PROBE}.java"
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.write_text(f"class {_PROBE} {{}}\n", encoding="utf-8")
        try:
            probe_run = ("test", f"-Dtest={_PROBE}", *_SELECTED_ONLY)
            yield Command((mvn, *_QUIET, *classpath, *probe_run), self.site.tree, "build")
        finally:  # the shadow copy holds only the user's files (and build outputs) between runs
            probe.unlink(missing_ok=True)
            (self.site.tree / "target" / "test-classes" / f"{_PROBE}.class").unlink(missing_ok=True)
        version = _PLATFORM_JAR.search(self._classpath_file.read_text()) if self._classpath_file.exists() else None
        if version is not None:  # a JUnit 5 project: the launcher of its platform version
            artifact = f"-Dartifact=org.junit.platform:{_CONSOLE}:{version.group(1)}"
            copy = ("dependency:copy", artifact, f"-DoutputDirectory={self._console_dir}", "-Dmdep.stripVersion=true")
            yield Command((mvn, *_QUIET, *copy), self.site.tree, "build")

    @property
    def _test_sources(self) -> Path:
        """The project's test source dir in the shadow copy: <testSourceDirectory> of pom.xml, else Maven's default."""
        pom = (self.site.tree / "pom.xml").read_text(encoding="utf-8", errors="replace")
        configured = _TEST_SOURCE_DIRECTORY.search(pom)
        directory = configured.group(1).strip() if configured else "src/test/java"
        for prefix in ("${project.basedir}/", "${basedir}/"):
            directory = directory.removeprefix(prefix)
        return self.site.tree / ("src/test/java" if "${" in directory else directory)

    def fetch_failure(self, output: str) -> str:
        if _COMPILATION_FAILED.search(output):
            return (
                "the project does not compile, and Maven must build it once (with the network) to resolve "
                "what its tests run with (the surefire provider): fix the error below, a stub included "
                "(`throw new UnsupportedOperationException();` is a body that compiles), then run again"
            )
        return super().fetch_failure(output)

    def plain_output(self, output: str) -> str:
        return "\n".join(line for line in output.splitlines() if not _MAVEN_BOILERPLATE.match(line))

    def is_test_file(self, relative: str, text: str) -> bool:
        return "src/test/" in f"/{relative}" or _TEST_ANNOTATION.search(text) is not None

    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        modifiers = next((child for child in function.children if child.type == "modifiers"), None)
        if modifiers is None or not _TEST_ANNOTATION.search(parsed.node_text(modifiers)):
            return None
        classes = [container_name(c, parsed.syntax) for c in enclosing_containers(function, parsed.syntax)]
        package = _PACKAGE.search(parsed.text(0, len(parsed.src)))
        suite = ".".join([*([package.group(1)] if package else []), "$".join(reversed(classes))])
        return TestCase(relative, function_name(function, parsed.syntax), suite)

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        by_class: dict[str, list[str]] = {}
        for case in cases:
            by_class.setdefault(case.suite or "", []).append(case.name)
        selection = ",".join(f"{suite}#{'+'.join(names)}" for suite, names in by_class.items())
        argv = (tool("mvn"), *_QUIET, "-o", "test", f"-Dtest={selection}", *_SELECTED_ONLY)
        test = Command(argv, self.site.tree, "build+test")
        return Plan(build=(), test=(test,), reports=(self._reports,), timed=self._console_run(cases))

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        test = Command((tool("mvn"), *_QUIET, "-o", "test", "-DtrimStackTrace=false"), self.site.tree, "build+test")
        return Plan(build=(), test=(test,), reports=(self._reports,))

    def _console_run(self, cases: Sequence[TestCase]) -> tuple[Command, ...] | None:
        """The selected tests on the JUnit console launcher, over what `mvn test` compiled; None when
        preparing did not get the launcher (not a JUnit 5 project)."""
        console = self._console_dir / f"{_CONSOLE}.jar"
        if not (console.exists() and self._classpath_file.exists()):
            return None
        target = self.site.tree / "target"
        classpath = ":".join(
            [str(target / "test-classes"), str(target / "classes"), self._classpath_file.read_text().strip()]
        )
        methods = [f"--select-method={case.suite}#{case.name}" for case in cases]
        # The serial collector: no GC threads whose CPU time would add noise to the measurement.
        java = (tool("java"), "-XX:+UseSerialGC", "-jar", str(console))
        argv = (*java, "--disable-banner", "--details=none", "--fail-if-no-tests")
        return (Command((*argv, "-cp", classpath, *methods), self.site.tree),)

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        return timer.timed_files(source, self.site.file, function)

    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest:
        source = (self.site.root / self.site.file).read_text(encoding="utf-8")
        package = _PACKAGE.search(source)
        owner = span.container or ""
        static = re.search(r"\bstatic\b", span.signature) is not None
        receiver = f"{owner}." if static else f"new {owner}()."
        lines = [
            f"package {package.group(1)};" if package else "",
            "",
            "import static org.junit.jupiter.api.Assertions.assertEquals;",
            "",
        ]
        lines += ["import org.junit.jupiter.api.Test;", "", f"class {_DOC_TEST_CLASS} {{"]
        for number, example in enumerate(examples, 1):
            call = example.call if example.call.startswith((f"{owner}.", "new ")) else receiver + example.call
            lines += [
                "    @Test",
                f"    void example{number}() {{",
                f"        assertEquals({example.expected}, {call});",
                "    }",
                "",
            ]
        lines.append("}\n")
        directory = Path("src/test/java", *(package.group(1).split(".") if package else []))
        suite = f"{package.group(1)}.{_DOC_TEST_CLASS}" if package else _DOC_TEST_CLASS
        relative = str(directory / f"{_DOC_TEST_CLASS}.java")
        cases = tuple(TestCase(relative, f"example{n}", suite) for n in range(1, len(examples) + 1))
        return GeneratedTest({relative: "\n".join(lines)}, cases)


PROJECT = MavenProject
