package dev.agentfn.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every credential agentfn is configured with, listed once: traces, logs and answers are all redacted of
 * these values, so a credential added to the configuration cannot be forgotten by one of them. An upstream
 * error that echoes the key, a model that prints it, a tool result that contains it: none reaches a caller.
 */
@Singleton
public final class Secrets {
    public static final String REDACTED = "[REDACTED]";
    /** Shorter values would redact ordinary words. */
    private static final int MIN_CHARS = 4;
    public static final Secrets NONE = new Secrets(List.of());

    /** Longest first, so a secret containing another is replaced whole. */
    private final List<String> values;

    @Inject
    public Secrets(AgentfnConfig config) {
        this(collect(config));
    }

    public Secrets(List<String> values) {
        Set<String> kept = new LinkedHashSet<>();
        values.stream().filter(v -> v != null && v.strip().length() >= MIN_CHARS).forEach(kept::add);
        this.values = kept.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    public List<String> values() {
        return values;
    }

    /** The text with every configured secret replaced by {@value #REDACTED}. */
    public String redact(String text) {
        if (text == null || values.isEmpty()) {
            return text;
        }
        String out = text;
        for (String v : values) {
            if (out.contains(v)) {
                out = out.replace(v, REDACTED);
            }
        }
        return out;
    }

    /** The JSON value itself when no string in it holds a secret, else a redacted copy. */
    public JsonNode redact(JsonNode node) {
        if (node == null || values.isEmpty() || !holdsSecret(node)) {
            return node;
        }
        return redactedCopy(node);
    }

    /** A redactor for text that arrives in pieces (streamed deltas), where a secret may be split. */
    public Pieces pieces() {
        return new Pieces();
    }

    private boolean holdsSecret(JsonNode node) {
        if (node.isTextual()) {
            return !redact(node.asText()).equals(node.asText());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!redact(e.getKey()).equals(e.getKey()) || holdsSecret(e.getValue())) {
                return true;
            }
        }
        if (node.isArray()) {
            for (JsonNode n : node) {
                if (holdsSecret(n)) {
                    return true;
                }
            }
        }
        return false;
    }

    private JsonNode redactedCopy(JsonNode node) {
        if (node.isTextual()) {
            return TextNode.valueOf(redact(node.asText()));
        }
        if (node instanceof ObjectNode o) {
            ObjectNode out = o.objectNode();
            o.fields().forEachRemaining(e -> out.set(redact(e.getKey()), redactedCopy(e.getValue())));
            return out;
        }
        if (node instanceof ArrayNode a) {
            ArrayNode out = a.arrayNode(a.size());
            a.forEach(n -> out.add(redactedCopy(n)));
            return out;
        }
        return node;
    }

    /**
     * Streamed text: what is passed on never contains a secret, even one split over several pieces. The end
     * of the text that could begin a secret is held back until the next piece shows whether it does.
     */
    public final class Pieces {
        private final StringBuilder held = new StringBuilder();

        /** The text that may be passed on now (possibly empty). */
        public synchronized String next(String piece) {
            if (values.isEmpty()) {
                return piece;
            }
            held.append(piece);
            String text = redact(held.toString());
            int keep = secretStartAtEnd(text);
            held.setLength(0);
            held.append(text, text.length() - keep, text.length());
            return text.substring(0, text.length() - keep);
        }

        /**
         * What was held back, once the text is complete: it is no whole secret (only the beginning of one at
         * most, as the complete text itself would be).
         */
        public synchronized String rest() {
            String rest = held.toString();
            held.setLength(0);
            return rest;
        }

        /** Length of the longest end of the text that is the beginning (not the whole) of a secret. */
        private int secretStartAtEnd(String text) {
            int best = 0;
            for (String v : values) {
                for (int k = Math.min(text.length(), v.length() - 1); k > best; k--) {
                    int at = text.length() - k;
                    if (text.charAt(at) == v.charAt(0) && text.regionMatches(at, v, 0, k)) {
                        best = k;
                        break;
                    }
                }
            }
            return best;
        }
    }

    /**
     * The one list of credentials: the Anthropic key and token, MLflow token and password, Databricks token,
     * agentfn's own API keys (listed or in the key file), MCP authorization tokens, credentials in HTTP tool
     * URLs and the tracking URI, the OpenAI-compatible judge key and the key an evaluation's fan-out sends to the
     * function.
     */
    static List<String> collect(AgentfnConfig c) {
        List<String> s = new ArrayList<>();
        c.anthropic().apiKey().ifPresent(s::add);
        c.anthropic().authToken().ifPresent(s::add);
        c.mlflow().trackingToken().ifPresent(s::add);
        c.mlflow().trackingPassword().ifPresent(s::add);
        c.mlflow().databricksToken().ifPresent(s::add);
        s.addAll(apiKeys(c));
        c.tools().mcp().values().forEach(m -> m.authorizationToken().ifPresent(s::add));
        c.tools().http().values().forEach(h -> s.addAll(userInfo(h.url())));
        c.mlflow().trackingUri().ifPresent(u -> s.addAll(userInfo(u)));
        c.evaluation().openai().apiKey().ifPresent(s::add);
        c.evaluation().functionApiKey().ifPresent(s::add);
        return s;
    }

    /**
     * agentfn's own API keys: {@code agentfn.auth.api-keys}, the lines of {@code api-keys-file} and the named keys of
     * {@code agentfn.auth.users}.
     */
    public static List<String> apiKeys(AgentfnConfig c) {
        List<String> keys = new ArrayList<>(c.auth().apiKeys().orElse(List.of()));
        c.auth().apiKeysFile().ifPresent(p -> keys.addAll(keyFile(p)));
        keys.addAll(c.auth().users().values());
        return keys.stream().map(String::strip).filter(k -> !k.isEmpty()).toList();
    }

    private static List<String> keyFile(Path p) {
        try {
            return Files.readAllLines(p).stream().map(String::trim).filter(s -> !s.isEmpty() && !s.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("agentfn.auth.api-keys-file " + p + " is unreadable: " + e.getMessage());
        }
    }

    /**
     * The password (or token) of {@code https://user:password@host/…} (an HTTP tool's URL, a tracking URI), as
     * written and as decoded: {@code p%40ss} is both.
     */
    private static List<String> userInfo(String url) {
        try {
            URI uri = URI.create(url);
            List<String> out = new ArrayList<>();
            for (String info : new String[] {uri.getRawUserInfo(), uri.getUserInfo()}) {
                if (info != null) {
                    int colon = info.indexOf(':');
                    out.add(colon < 0 ? info : info.substring(colon + 1));
                }
            }
            return out;
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }
}
