package dev.agentfn.conversation.claudecode;

import java.util.Map;

/** Removes the credentials handed to the CLI from text that may reach a caller or a trace (its stderr). */
final class Redact {
    private Redact() {
    }

    static String secrets(String text, Map<String, String> env) {
        String out = text;
        for (String key : new String[] {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"}) {
            String v = env.get(key);
            if (v != null && v.length() >= 4) {
                out = out.replace(v, "[REDACTED]");
            }
        }
        return out;
    }
}
