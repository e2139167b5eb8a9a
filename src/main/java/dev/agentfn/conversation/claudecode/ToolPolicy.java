package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The deployment's answer to {@code can_use_tool}: a tool must be on the allow-list, {@code Bash} only
 * when enabled, and every path a tool touches must lie inside the invocation's working directory.
 */
final class ToolPolicy {
    static final String BASH = "Bash";
    /** Input fields of the built-in tools that name files or directories. */
    private static final List<String> PATH_FIELDS = List.of("file_path", "path", "notebook_path");

    private final Set<String> allowed;
    private final boolean bashEnabled;

    ToolPolicy(List<String> allowed, boolean bashEnabled) {
        this.allowed = Set.copyOf(allowed);
        this.bashEnabled = bashEnabled;
    }

    /** The tools the CLI offers the model: the allow-list (narrowed by the request), Bash only when enabled. */
    List<String> offered(List<String> requested) {
        List<String> out = new ArrayList<>();
        for (String t : requested.isEmpty() ? List.copyOf(allowed) : requested) {
            if (allowed.contains(t) && (bashEnabled || !t.equals(BASH)) && !out.contains(t)) {
                out.add(t);
            }
        }
        out.sort(null);
        return out;
    }

    boolean allows(String tool) {
        return allowed.contains(tool) && (bashEnabled || !tool.equals(BASH));
    }

    /** A decision with the reason the model and the trace see when denied. */
    record Decision(boolean allow, String reason) {
        static final Decision ALLOW = new Decision(true, "allowed by the deployment's tool policy");

        static Decision deny(String reason) {
            return new Decision(false, reason);
        }
    }

    Decision decide(String tool, JsonNode input, List<String> offered, Path cwd) {
        if (tool.equals(BASH) && !bashEnabled) {
            return Decision.deny("Bash is disabled in this deployment (agentfn.claude-code.bash-enabled)");
        }
        if (!allowed.contains(tool) || !offered.contains(tool)) {
            return Decision.deny("tool " + tool + " is not allowed here; allowed: " + offered);
        }
        for (String field : PATH_FIELDS) {
            JsonNode v = input.get(field);
            if (v != null && v.isTextual() && !inside(cwd, v.asText())) {
                return Decision.deny("path " + v.asText() + " is outside the invocation's working directory");
            }
        }
        return Decision.ALLOW;
    }

    /** Resolves symlinks of the existing part of the path, so a link cannot lead out of the directory. */
    static boolean inside(Path cwd, String raw) {
        try {
            Path root = cwd.toRealPath();
            Path p = cwd.resolve(raw).toAbsolutePath().normalize();
            Path existing = p;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            Path real = existing == null ? p : existing.toRealPath().resolve(existing.relativize(p)).normalize();
            return real.startsWith(root);
        } catch (IOException | InvalidPathException e) {
            return false;
        }
    }
}
