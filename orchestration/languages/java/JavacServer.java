import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Keeps javac warm for PerfOrch: compiles Java files in this long-lived JVM, one request per line.
 *
 * <p>Request on stdin: {@code id TAB output-dir TAB source-file [TAB source-file ...]}. Reply on stdout:
 * {@code id TAB status TAB diagnostics}, status 0 when it compiled, 1 when it did not, 2 when javac
 * crashed; diagnostics are javac's own text, Base64 of UTF-8. Requests are compiled concurrently by
 * {@code args[0]} threads. Annotation processing is off (-proc:none): compiling never runs a candidate's
 * code. The server exits when stdin closes.
 */
public final class JavacServer {
    private static final List<String> OPTIONS = List.of(
            "-proc:none", "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-Xmaxerrs", "5");

    private final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    // A file manager caches the platform's class index; one per thread, reused across requests.
    private final ThreadLocal<StandardJavaFileManager> fileManagers = ThreadLocal.withInitial(
            () -> javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8));
    private final PrintStream replies =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    public static void main(String[] args) throws IOException {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        new JavacServer().serve(threads);
    }

    private void serve(int threads) throws IOException {
        ExecutorService workers = Executors.newFixedThreadPool(threads);
        BufferedReader requests = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = requests.readLine(); line != null; line = requests.readLine()) {
            String[] fields = line.split("\t");
            workers.execute(() -> reply(fields[0], compile(fields)));
        }
        workers.shutdown();
    }

    /** Returns {status, diagnostics}. */
    private String[] compile(String[] request) {
        StringWriter diagnostics = new StringWriter();
        try {
            StandardJavaFileManager files = fileManagers.get();
            Iterable<? extends JavaFileObject> sources =
                    files.getJavaFileObjectsFromStrings(Arrays.asList(request).subList(2, request.length));
            List<String> options = new ArrayList<>(OPTIONS);
            options.addAll(List.of("-d", request[1]));
            boolean compiled = javac.getTask(diagnostics, files, null, options, null, sources).call();
            return new String[] {compiled ? "0" : "1", diagnostics.toString()};
        } catch (RuntimeException | Error crash) {
            crash.printStackTrace(new PrintWriter(diagnostics));
            return new String[] {"2", diagnostics.toString()};
        }
    }

    private synchronized void reply(String id, String[] result) {
        String text = Base64.getEncoder().encodeToString(result[1].getBytes(StandardCharsets.UTF_8));
        replies.println(id + "\t" + result[0] + "\t" + text);
    }
}
