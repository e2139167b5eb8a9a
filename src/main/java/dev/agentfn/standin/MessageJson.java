package dev.agentfn.standin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.List;

/** JSON shapes of the Messages API (spec §1.2, §1.4), built field by field in the API's order. */
final class MessageJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private MessageJson() {
    }

    /** The complete non-streaming Message. */
    static ObjectNode message(String id, String model, FakeTurn.Reply reply, FakeUsage usage) {
        ObjectNode msg = envelope(id, model);
        ArrayNode content = (ArrayNode) msg.get("content");
        reply.content().forEach(block -> content.add(fullBlock(block)));
        msg.put("stop_reason", reply.stopReason());
        msg.put("stop_sequence", reply.stopSequence());
        msg.set("usage", usage(usage, usage.outputTokens(), true));
        tail(msg);
        return msg;
    }

    /** The Message inside {@code message_start}: no content, no stop reason, output_tokens 1. */
    static ObjectNode startMessage(String id, String model, FakeUsage usage) {
        ObjectNode msg = envelope(id, model);
        msg.putNull("stop_reason");
        msg.putNull("stop_sequence");
        msg.set("usage", usage(usage, 1, true));
        tail(msg);
        return msg;
    }

    private static ObjectNode envelope(String id, String model) {
        ObjectNode msg = MAPPER.createObjectNode();
        msg.put("id", id);
        msg.put("type", "message");
        msg.put("role", "assistant");
        msg.put("model", model);
        msg.putArray("content");
        return msg;
    }

    private static void tail(ObjectNode msg) {
        msg.putNull("container");
        msg.putNull("stop_details");
    }

    static ObjectNode usage(FakeUsage usage, int outputTokens, boolean withTier) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("input_tokens", usage.inputTokens());
        node.put("cache_creation_input_tokens", usage.cacheCreationInputTokens());
        node.put("cache_read_input_tokens", usage.cacheReadInputTokens());
        node.put("output_tokens", outputTokens);
        if (withTier) {
            node.put("service_tier", "standard");
        }
        return node;
    }

    static ObjectNode fullBlock(FakeBlock block) {
        if (block instanceof FakeBlock.Raw raw) {
            return raw.json().deepCopy();
        }
        ObjectNode node = MAPPER.createObjectNode();
        if (block instanceof FakeBlock.Text text) {
            node.put("type", "text");
            node.put("text", text.text());
        } else if (block instanceof FakeBlock.Thinking thinking) {
            node.put("type", "thinking");
            node.put("thinking", thinking.thinking());
            node.put("signature", thinking.signature());
        } else if (block instanceof FakeBlock.ToolUse toolUse) {
            node.put("type", "tool_use");
            node.put("id", toolUse.call().id());
            node.put("name", toolUse.call().name());
            node.set("input", MAPPER.valueToTree(toolUse.call().input()));
        }
        return node;
    }

    /** The {@code content_block} of {@code content_block_start}: same block with empty payload. */
    static ObjectNode startBlock(FakeBlock block) {
        ObjectNode node = fullBlock(block);
        if (block instanceof FakeBlock.Raw) {
            return node;
        } else if (block instanceof FakeBlock.Text) {
            node.put("text", "");
        } else if (block instanceof FakeBlock.Thinking) {
            node.put("thinking", "");
            node.put("signature", "");
        } else {
            node.putObject("input");
        }
        return node;
    }

    /** Compact JSON of a tool's input, as streamed in {@code input_json_delta}. */
    static String inputJson(ToolCall call) {
        try {
            return MAPPER.writeValueAsString(call.input());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Characters the model "generated", the basis of the default output-token estimate. */
    static int outputChars(List<FakeBlock> content) {
        int chars = 0;
        for (FakeBlock block : content) {
            if (block instanceof FakeBlock.Text text) {
                chars += text.text().length();
            } else if (block instanceof FakeBlock.Thinking thinking) {
                chars += thinking.thinking().length();
            } else if (block instanceof FakeBlock.ToolUse toolUse) {
                chars += inputJson(toolUse.call()).length();
            }
        }
        return chars;
    }

    static ObjectNode errorBody(String type, String message, String requestId) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("type", "error");
        ObjectNode error = body.putObject("error");
        error.put("type", type);
        error.put("message", message);
        if (requestId != null) {
            body.put("request_id", requestId);
        }
        return body;
    }
}
