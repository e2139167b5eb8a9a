package dev.agentfn.standin;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options of {@link FakeAnthropicServer#main}, each with an env fallback. */
record CliOptions(int port, long latencyMs, Scenario scenario, int toolRounds, int threads, int recordLimit) {
    private static final Set<String> NAMES = Set.of("port", "latency-ms", "scenario", "tool-rounds", "threads",
            "record-limit");

    static CliOptions parse(String[] args, Map<String, String> env) {
        Map<String, String> given = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                given.put("port", args[i]); // a bare number is the port, for the simplest scripts
            } else if (i + 1 < args.length) {
                given.put(args[i].substring(2), args[++i]);
            } else {
                throw new IllegalArgumentException("missing value for " + args[i]);
            }
        }
        given.keySet().stream().filter(name -> !NAMES.contains(name)).findFirst().ifPresent(name -> {
            throw new IllegalArgumentException("unknown option --" + name + "; known: " + NAMES);
        });
        return new CliOptions(
                Integer.parseInt(value(given, env, "port", String.valueOf(FakeAnthropicServer.DEFAULT_PORT))),
                Long.parseLong(value(given, env, "latency-ms", "0")),
                Scenario.parse(value(given, env, "scenario", "echo")),
                Integer.parseInt(value(given, env, "tool-rounds", "2")),
                Integer.parseInt(value(given, env, "threads", String.valueOf(FakeAnthropicServer.DEFAULT_THREADS))),
                Integer.parseInt(value(given, env, "record-limit",
                        String.valueOf(FakeAnthropicServer.DEFAULT_RECORD_LIMIT))));
    }

    /** {@code --latency-ms} falls back to {@code FAKE_ANTHROPIC_LATENCY_MS}, then the default. */
    private static String value(Map<String, String> given, Map<String, String> env, String name, String fallback) {
        String fromArgs = given.get(name);
        if (fromArgs != null) {
            return fromArgs;
        }
        String fromEnv = env.get("FAKE_ANTHROPIC_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
        return fromEnv != null && !fromEnv.isBlank() ? fromEnv : fallback;
    }
}
