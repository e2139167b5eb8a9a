package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One stdout line of the CLI in stream-json mode (claude-conversations spec 3.5 and 3.6). Each record
 * keeps the raw JSON for tracing; accessors read only the fields the driver acts on.
 */
sealed interface CliFrame {

    JsonNode json();

    /** Classifies a parsed line by {@code type} and {@code subtype}; unknown shapes become {@link Other}. */
    static CliFrame of(JsonNode json) {
        String type = json.path("type").asText("");
        String subtype = json.path("subtype").asText("");
        return switch (type) {
            case "system" -> switch (subtype) {
                case "init" -> new Init(json);
                case "api_retry" -> new ApiRetry(json);
                default -> new Other(json);
            };
            case "assistant" -> new Assistant(json);
            case "stream_event" -> new StreamEvent(json);
            case "user" -> new ToolResults(json);
            case "result" -> new Result(json);
            case "control_request" -> new ControlRequest(json);
            case "control_response" -> new ControlResponse(json);
            case "control_cancel_request" -> new ControlCancel(json);
            default -> new Other(json);
        };
    }

    /** {@code parent_tool_use_id}: set on frames of a subagent, naming the Task tool call it works for. */
    static String parentToolUseId(JsonNode json) {
        JsonNode p = json.get("parent_tool_use_id");
        return p == null || p.isNull() ? null : p.asText();
    }

    /** {@code system/init}, sent at the start of each turn. */
    record Init(JsonNode json) implements CliFrame {
        String sessionId() {
            return json.path("session_id").asText(null);
        }

        String version() {
            return json.path("claude_code_version").asText(null);
        }

        String model() {
            return json.path("model").asText(null);
        }
    }

    /** {@code system/api_retry}: the CLI retries a model call itself. */
    record ApiRetry(JsonNode json) implements CliFrame {
    }

    /** One content block of an assistant message; all frames of one API message share {@code message.id}. */
    record Assistant(JsonNode json) implements CliFrame {
        JsonNode message() {
            return json.path("message");
        }

        String messageId() {
            return message().path("id").asText("");
        }

        String parentToolUseId() {
            return CliFrame.parentToolUseId(json);
        }

        boolean isApiError() {
            return json.path("is_api_error_message").asBoolean(false);
        }
    }

    /**
     * One raw SSE event of a model call ({@code --include-partial-messages}). Only {@code message_delta} is used:
     * it alone carries the call's final usage and stop reason (the assistant frames repeat the
     * {@code message_start} snapshot, {@code output_tokens: 1}).
     */
    record StreamEvent(JsonNode json) implements CliFrame {
        String eventType() {
            return json.path("event").path("type").asText("");
        }

        /** The API message this event belongs to, as {@code message.id} of its assistant frames. */
        String apiMessageId() {
            return json.path("api_message_id").asText("");
        }

        String parentToolUseId() {
            return CliFrame.parentToolUseId(json);
        }

        JsonNode usage() {
            return json.path("event").path("usage");
        }

        String stopReason() {
            return json.path("event").path("delta").path("stop_reason").asText(null);
        }
    }

    /** A user frame: the results of tool calls the CLI ran (or refused). */
    record ToolResults(JsonNode json) implements CliFrame {
        String parentToolUseId() {
            return CliFrame.parentToolUseId(json);
        }

        List<JsonNode> results() {
            List<JsonNode> out = new ArrayList<>();
            JsonNode content = json.path("message").path("content");
            if (content.isArray()) {
                content.forEach(b -> {
                    if ("tool_result".equals(b.path("type").asText())) {
                        out.add(b);
                    }
                });
            }
            return out;
        }

        /** The CLI's permission decision for a tool call, from {@code tool_result_meta}, or {@code null}. */
        JsonNode permissionDecision(String toolUseId) {
            for (JsonNode m : json.path("tool_result_meta")) {
                if (toolUseId.equals(m.path("id").asText())) {
                    return m.get("permission_decision");
                }
            }
            return null;
        }
    }

    /** The end of a turn, with totals. Failures are told by {@code is_error}, not by {@code subtype}. */
    record Result(JsonNode json) implements CliFrame {
        boolean isError() {
            return json.path("is_error").asBoolean(false);
        }

        String subtype() {
            return json.path("subtype").asText("");
        }

        String sessionId() {
            return json.path("session_id").asText(null);
        }

        String text() {
            return json.path("result").asText("");
        }

        /**
         * Usage per model of this turn: {@code model_usage_since_last_result} when present, else {@code modelUsage}
         * (cumulative per process). Both include the CLI's calls outside the conversation.
         */
        JsonNode modelUsage() {
            JsonNode since = json.get("model_usage_since_last_result");
            return since != null && since.size() > 0 ? since : json.path("modelUsage");
        }
    }

    /** A request from the CLI: {@code can_use_tool}, {@code hook_callback}, {@code mcp_message}. */
    record ControlRequest(JsonNode json) implements CliFrame {
        String requestId() {
            return json.path("request_id").asText("");
        }

        String subtype() {
            return json.path("request").path("subtype").asText("");
        }

        JsonNode request() {
            return json.path("request");
        }
    }

    /** The CLI's reply to one of our control requests. */
    record ControlResponse(JsonNode json) implements CliFrame {
        String requestId() {
            return json.path("response").path("request_id").asText("");
        }

        boolean success() {
            return "success".equals(json.path("response").path("subtype").asText());
        }

        JsonNode payload() {
            return json.path("response").path("response");
        }

        String error() {
            return json.path("response").path("error").asText("");
        }
    }

    /** The CLI withdrew one of its requests: drop the handler and send no reply. */
    record ControlCancel(JsonNode json) implements CliFrame {
        String requestId() {
            return json.path("request_id").asText("");
        }
    }

    /** Frames traced as events or ignored: compaction, rate limits, task and hook notices. */
    record Other(JsonNode json) implements CliFrame {
    }
}
