package dev.agentfn.standin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Objects;

/** One content block of a fake assistant message. */
public sealed interface FakeBlock permits FakeBlock.Text, FakeBlock.Thinking, FakeBlock.ToolUse {

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
