package dev.agentfn.conversation.claudecode;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The command line and environment of one CLI process (claude-conversations spec 3.2 and 3.3). Flags
 * keep the order of the Python SDK's {@code _build_command}; every value goes after {@code =} so a
 * value starting with a dash can never be read as a flag.
 *
 * @param resume an existing session to continue ({@code --resume}); otherwise {@code sessionId} names the new one
 */
record CliCommand(Path cli, String systemPrompt, List<String> tools, List<String> disallowedTools, int maxTurns,
        Optional<BigDecimal> maxBudgetUsd, String model, String permissionMode, boolean resume, String sessionId) {

    CliCommand {
        tools = List.copyOf(tools);
        disallowedTools = List.copyOf(disallowedTools);
    }

    /** The same command for another session: spare processes are started for a shape, under a session of their own. */
    CliCommand withSession(String session) {
        return new CliCommand(cli, systemPrompt, tools, disallowedTools, maxTurns, maxBudgetUsd, model, permissionMode,
                resume, session);
    }

    /** What a spare process must have been started with to serve this command: everything but the session. */
    CliCommand shape() {
        return withSession("");
    }

    List<String> argv() {
        List<String> a = new ArrayList<>();
        a.add(cli.toString());
        a.add("--output-format");
        a.add("stream-json");
        a.add("--verbose");
        a.add("--system-prompt=" + (systemPrompt == null ? "" : systemPrompt));
        a.add("--tools=" + String.join(",", tools));
        a.add("--max-turns=" + maxTurns);
        maxBudgetUsd.ifPresent(b -> a.add("--max-budget-usd=" + b.toPlainString()));
        if (!disallowedTools.isEmpty()) {
            a.add("--disallowedTools=" + String.join(",", disallowedTools));
        }
        a.add("--model=" + model);
        a.add("--permission-prompt-tool=stdio");
        a.add("--permission-mode=" + permissionMode);
        a.add(resume ? "--resume=" + sessionId : "--session-id=" + sessionId);
        // Empty: no settings file of the host (user, project, local) leaks into the service.
        a.add("--setting-sources=");
        // Raw stream events: a call's message_delta is the only frame with its final usage (docs/tracing.md).
        a.add("--include-partial-messages");
        a.add("--input-format");
        a.add("stream-json");
        return a;
    }

    /**
     * The whole environment of the process: nothing is inherited, so none of the function's other
     * secrets reach the CLI or the tools it runs.
     *
     * @param traceparent the invocation's W3C trace context; null for a spare process, started before its invocation
     */
    static Map<String, String> environment(Credentials credentials, Path cwd, Path configDir, Path home, Path tmp,
            String traceparent, String entrypoint, int maxRetries) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("LANG", "C.UTF-8");
        env.put("HOME", home.toString());
        env.put("TMPDIR", tmp.toString());
        env.put("PWD", cwd.toString());
        env.put("CLAUDE_CONFIG_DIR", configDir.toString());
        env.put("CLAUDE_CODE_ENTRYPOINT", entrypoint);
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        // The CLI retries 529 and even 401 up to 10 times by default (spec 3.7); bound it like the messages engine.
        env.put("CLAUDE_CODE_MAX_RETRIES", Integer.toString(maxRetries));
        env.put("ANTHROPIC_BASE_URL", credentials.baseUrl());
        credentials.apiKey().ifPresent(k -> env.put("ANTHROPIC_API_KEY", k));
        credentials.authToken().ifPresent(t -> {
            env.put("ANTHROPIC_AUTH_TOKEN", t);
            if (credentials.apiKey().isEmpty()) {
                env.put("ANTHROPIC_API_KEY", "");
            }
        });
        if (traceparent != null) {
            env.put("TRACEPARENT", traceparent);
        }
        return env;
    }

    /** What the CLI needs to reach the Messages API (the same endpoint the {@code messages} engine uses). */
    record Credentials(String baseUrl, Optional<String> apiKey, Optional<String> authToken) {
        @Override
        public String toString() {
            return "Credentials[" + baseUrl + ", secrets hidden]";
        }
    }
}
