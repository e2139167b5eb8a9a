package dev.agentfn.standin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes Messages API SSE frames ({@code event: T\ndata: JSON\n\n}), flushing each one so a
 * client sees it immediately (the JDK server sends one HTTP chunk per flush).
 */
final class SseStream {
    /** Code points per delta: small enough that short answers still arrive in several deltas. */
    static final int CHUNK = 10;

    private final OutputStream out;

    SseStream(OutputStream out) {
        this.out = out;
    }

    void messageStart(ObjectNode message) throws IOException {
        ObjectNode data = data("message_start");
        data.set("message", message);
        write(data);
    }

    void ping() throws IOException {
        write(data("ping"));
    }

    /** start → deltas → stop for one block; the ping goes after the first block start, like the API. */
    void block(int index, FakeBlock block, boolean pingAfterStart) throws IOException {
        ObjectNode start = data("content_block_start");
        start.put("index", index);
        start.set("content_block", MessageJson.startBlock(block));
        write(start);
        if (pingAfterStart) {
            ping();
        }
        for (ObjectNode delta : deltas(block)) {
            ObjectNode frame = data("content_block_delta");
            frame.put("index", index);
            frame.set("delta", delta);
            write(frame);
        }
        ObjectNode stop = data("content_block_stop");
        stop.put("index", index);
        write(stop);
    }

    /** {@code message_delta} carries the cumulative usage, then {@code message_stop}. */
    void messageEnd(String stopReason, String stopSequence, FakeUsage usage) throws IOException {
        ObjectNode data = data("message_delta");
        ObjectNode delta = data.putObject("delta");
        delta.put("stop_reason", stopReason);
        delta.put("stop_sequence", stopSequence);
        data.set("usage", MessageJson.usage(usage, usage.outputTokens(), false));
        write(data);
        write(data("message_stop"));
    }

    void error(String type, String message) throws IOException {
        write(MessageJson.errorBody(type, message, null));
    }

    private static List<ObjectNode> deltas(FakeBlock block) {
        List<ObjectNode> out = new ArrayList<>();
        if (block instanceof FakeBlock.Text text) {
            chunks(text.text()).forEach(c -> out.add(delta("text_delta", "text", c)));
        } else if (block instanceof FakeBlock.Thinking thinking) {
            chunks(thinking.thinking()).forEach(c -> out.add(delta("thinking_delta", "thinking", c)));
            out.add(delta("signature_delta", "signature", thinking.signature()));
        } else if (block instanceof FakeBlock.ToolUse toolUse) {
            chunks(MessageJson.inputJson(toolUse.call()))
                    .forEach(c -> out.add(delta("input_json_delta", "partial_json", c)));
        }
        return out;
    }

    private static ObjectNode delta(String type, String field, String value) {
        ObjectNode delta = MessageJson.MAPPER.createObjectNode();
        delta.put("type", type);
        delta.put(field, value);
        return delta;
    }

    /** Splits on code-point boundaries so surrogate pairs never straddle two deltas. */
    static List<String> chunks(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < s.length()) {
            int end = start;
            for (int n = 0; n < CHUNK && end < s.length(); n++) {
                end += Character.charCount(s.codePointAt(end));
            }
            out.add(s.substring(start, end));
            start = end;
        }
        return out;
    }

    private static ObjectNode data(String type) {
        ObjectNode data = MessageJson.MAPPER.createObjectNode();
        data.put("type", type);
        return data;
    }

    private void write(ObjectNode data) throws IOException {
        String frame = "event: " + data.get("type").asText() + "\ndata: " + data + "\n\n";
        out.write(frame.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
