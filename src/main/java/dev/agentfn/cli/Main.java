package dev.agentfn.cli;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Entry point of the artifact. Without arguments it is the HTTP function, as before (the Lambda
 * variants start it the same way); {@code evaluate …} runs one evaluation as a command for CI and exits
 * with its verdict ({@link EvaluateCommand}).
 */
@QuarkusMain
public class Main implements QuarkusApplication {
    @Inject
    EvaluateCommand evaluate;

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals(EvaluateCommand.NAME)) {
            // A command: no fixed port to collide with a running server, and dataset paths relative to here.
            defaultProperty("quarkus.http.port", "0");
            defaultProperty("agentfn.evaluation.dataset-root", Path.of("").toAbsolutePath().toString());
            // Nothing reaches the HTTP port from outside, and stdout is the report a CI job reads: logs go to stderr.
            defaultProperty("quarkus.http.host", "127.0.0.1");
            defaultProperty("quarkus.log.console.stderr", "true");
            defaultProperty("quarkus.banner.enabled", "false");
        }
        Quarkus.run(Main.class, args);
    }

    /**
     * Whether stdout is a terminal. Up to Java 21 {@code System.console()} is null when a stream is redirected;
     * from Java 22 it is not, and {@code Console.isTerminal()} (looked up reflectively: this code targets 17) says.
     */
    static boolean terminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    private static void defaultProperty(String key, String value) {
        String env = key.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        if (System.getProperty(key) == null && System.getenv(env) == null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public int run(String... args) {
        if (args.length == 0) {
            Quarkus.waitForExit();
            return 0;
        }
        if (args[0].equals(EvaluateCommand.NAME)) {
            return evaluate.run(Arrays.copyOfRange(args, 1, args.length), System.out, terminal());
        }
        System.err.println("unknown command '" + args[0] + "'; commands: evaluate (no arguments: serve HTTP)");
        return EvaluateCommand.EXIT_USAGE;
    }
}
