package dev.agentfn.conversation.messages;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.messages.wire.ContentBlock;
import dev.agentfn.conversation.messages.wire.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the final {@link Message} from stream events in the documented order. Usage follows the
 * cumulative rule: the {@code message_start} usage overlaid with {@code message_delta}'s, never summed.
 */
public final class MessageAccumulator {

    /** Receives what the caller may see while the message streams. */
    public interface Listener {
        void textDelta(String text);
    }

    private final ObjectMapper json;
    private final Listener listener;
    private final List<ObjectNode> blocks = new ArrayList<>();
    private final List<StringBuilder> partialJson = new ArrayList<>();
    /** Text and thinking grow by appending: a long answer arrives in thousands of deltas. */
    private final List<StringBuilder> text = new ArrayList<>();
    private final List<StringBuilder> thinking = new ArrayList<>();
    private ObjectNode message;
    private Usage usage = Usage.ZERO;
    private String stopReason;
    private String stopSequence;
    private boolean stopped;
    private long firstDeltaNanos;

    public MessageAccumulator(ObjectMapper json, Listener listener) {
        this.json = json;
        this.listener = listener;
    }

    /** Applies one SSE event; throws {@link StreamErrorEvent} for an {@code error} event. */
    public void apply(String event, String data) {
        JsonNode node = parse(data);
        switch (node.path("type").asText(event)) {
            case "message_start" -> start(node.path("message"));
            case "content_block_start" -> blockStart(node.path("index").asInt(), (ObjectNode) node.path("content_block"));
            case "content_block_delta" -> delta(node.path("index").asInt(), node.path("delta"));
            case "content_block_stop" -> blockStop(node.path("index").asInt());
            case "message_delta" -> messageDelta(node);
            case "message_stop" -> stopped = true;
            case "error" -> throw new StreamErrorEvent(node.path("error").path("type").asText("api_error"),
                    node.path("error").path("message").asText(""));
            default -> {
                // ping and event types added later carry nothing we need
            }
        }
    }

    public boolean complete() {
        return stopped;
    }

    /** Monotonic time of the first content delta, or 0 if none arrived. */
    long firstDeltaNanos() {
        return firstDeltaNanos;
    }

    public Message result() {
        for (int i = 0; i < blocks.size(); i++) {
            flushText(i);
        }
        List<ContentBlock> content = blocks.stream().map(ContentBlock::of).toList();
        JsonNode container = message.path("container");
        return new Message(message.path("id").asText(), message.path("model").asText(), content, stopReason,
                stopSequence, usage, container.isObject() ? (ObjectNode) container : null);
    }

    private void start(JsonNode msg) {
        message = (ObjectNode) msg;
        usage = Usage.fromJson(msg.path("usage"));
    }

    private void blockStart(int index, ObjectNode block) {
        while (blocks.size() <= index) {
            blocks.add(null);
            partialJson.add(null);
            text.add(null);
            thinking.add(null);
        }
        ObjectNode copy = block.deepCopy();
        blocks.set(index, copy);
        if (copy.has("input")) {
            partialJson.set(index, new StringBuilder());
        }
        text.set(index, copy.has("text") ? new StringBuilder(copy.path("text").asText("")) : null);
        thinking.set(index, copy.has("thinking") ? new StringBuilder(copy.path("thinking").asText("")) : null);
    }

    private void delta(int index, JsonNode delta) {
        if (firstDeltaNanos == 0) {
            firstDeltaNanos = System.nanoTime();
        }
        ObjectNode block = blocks.get(index);
        switch (delta.path("type").asText()) {
            case "text_delta" -> {
                String piece = delta.path("text").asText("");
                builder(text, index).append(piece);
                listener.textDelta(piece);
            }
            case "input_json_delta" -> partialJson.get(index).append(delta.path("partial_json").asText(""));
            case "thinking_delta" -> builder(thinking, index).append(delta.path("thinking").asText(""));
            case "signature_delta" -> block.put("signature", delta.path("signature").asText(""));
            case "citations_delta" -> block.withArray("citations").add(delta.path("citation"));
            default -> {
                // unknown delta kinds are dropped rather than corrupting the block
            }
        }
    }

    private static StringBuilder builder(List<StringBuilder> builders, int index) {
        StringBuilder b = builders.get(index);
        if (b == null) {
            b = new StringBuilder();
            builders.set(index, b);
        }
        return b;
    }

    /** Writes the accumulated text and thinking into the block (idempotent). */
    private void flushText(int index) {
        ObjectNode block = blocks.get(index);
        if (block == null) {
            return;
        }
        if (text.get(index) != null) {
            block.put("text", text.get(index).toString());
        }
        if (thinking.get(index) != null) {
            block.put("thinking", thinking.get(index).toString());
        }
    }

    private void blockStop(int index) {
        flushText(index);
        StringBuilder partial = partialJson.get(index);
        if (partial != null && partial.length() > 0) {
            blocks.get(index).set("input", parse(partial.toString()));
        }
    }

    private void messageDelta(JsonNode node) {
        JsonNode delta = node.path("delta");
        if (delta.has("stop_reason")) {
            stopReason = delta.path("stop_reason").asText(null);
        }
        if (delta.has("stop_sequence")) {
            stopSequence = delta.path("stop_sequence").isNull() ? null : delta.path("stop_sequence").asText();
        }
        if (delta.has("container") && delta.get("container").isObject()) {
            message.set("container", delta.get("container"));
        }
        usage = usage.overlay(node.path("usage"));
    }

    private JsonNode parse(String data) {
        try {
            return json.readTree(data);
        } catch (JsonProcessingException e) {
            throw new MalformedStreamException("unparseable stream event: " + e.getOriginalMessage());
        }
    }

    /** An {@code event: error} frame after the 200 status. */
    public static final class StreamErrorEvent extends RuntimeException {
        final String type;

        StreamErrorEvent(String type, String message) {
            super(message, null, false, false);
            this.type = type;
        }
    }

    public static final class MalformedStreamException extends RuntimeException {
        MalformedStreamException(String message) {
            super(message, null, false, false);
        }
    }
}
