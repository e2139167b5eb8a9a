package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error the gateway itself answers, in Anthropic's error shape ({@code {"type":"error","error":{"type","message"}}}):
 * its callers are Anthropic clients, which read that shape (and retry on its status) but not problem documents.
 * Errors of the upstream API are never wrapped in this: they are relayed as they came.
 */
record GatewayError(int status, String type, String message) {

    /** A request the gateway will not relay: the message says what is wrong (never echoing the caller's bytes). */
    static GatewayError invalidRequest(String message) {
        return new GatewayError(400, "invalid_request_error", message);
    }

    static GatewayError tooLarge(long limit) {
        return new GatewayError(413, "request_too_large", "the request body is larger than " + limit
                + " bytes (agentfn.gateway.max-body-size)");
    }

    static GatewayError unauthenticated(String message) {
        return new GatewayError(401, "authentication_error", message);
    }

    static GatewayError upstreamUnreachable() {
        // 502 and api_error: the clients retry it as they retry Anthropic's own 5xx
        return new GatewayError(502, "api_error", "the upstream Messages API could not be reached");
    }

    String body() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("type", "error");
        root.putObject("error").put("type", type).put("message", message);
        return root.toString();
    }
}
