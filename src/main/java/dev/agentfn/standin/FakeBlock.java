package dev.agentfn.standin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Objects;

/** One content block of a fake assistant message. */
public sealed interface FakeBlock permits FakeBlock.Text, FakeBlock.Thinking, FakeBlock.ToolUse, FakeBlock.Raw {

    record Text(String text) implements FakeBlock {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** A thinking block; the signature must be replayed verbatim by clients, so it is kept. */
    record Thinking(String thinking, String signature) implements FakeBlock {
        public Thinking {
            Objects.requireNonNull(thinking, "thinking");
            signature = signature != null ? signature : signatureFor(thinking);
        }
    }

    record ToolUse(ToolCall call) implements FakeBlock {
        public ToolUse {
            Objects.requireNonNull(call, "call");
        }
    }

    /**
     * Any other block exactly as given ({@code server_tool_use}, {@code web_search_tool_result},
     * {@code mcp_tool_use}, ...): streamed whole in its {@code content_block_start}, with no deltas.
     */
    record Raw(com.fasterxml.jackson.databind.node.ObjectNode json) implements FakeBlock {
        public Raw {
            Objects.requireNonNull(json, "json");
            json = json.deepCopy();
        }
    }

    static Raw raw(com.fasterxml.jackson.databind.node.ObjectNode json) {
        return new Raw(json);
    }

    static Text text(String text) {
        return new Text(text);
    }

    /** Thinking with a deterministic fake signature derived from the text. */
    static Thinking thinking(String thinking) {
        return new Thinking(thinking, null);
    }

    static ToolUse toolUse(ToolCall call) {
        return new ToolUse(call);
    }

    /** Deterministic so repeated runs (and replay checks) see the same signature. */
    private static String signatureFor(String thinking) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest(thinking.getBytes(StandardCharsets.UTF_8));
            return "fakesig_" + Base64.getEncoder().encodeToString(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
