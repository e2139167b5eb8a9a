package dev.agentfn.standin;

import java.util.Map;

/** The real API's status ↔ error-type pairs (spec §1.5). */
final class ApiErrors {
    private static final Map<Integer, String> TYPE_BY_STATUS = Map.of(
            400, "invalid_request_error",
            401, "authentication_error",
            402, "billing_error",
            403, "permission_error",
            404, "not_found_error",
            413, "request_too_large",
            429, "rate_limit_error",
            500, "api_error",
            504, "timeout_error",
            529, "overloaded_error");

    private static final Map<Integer, String> MESSAGE_BY_STATUS = Map.of(
            400, "Invalid request",
            401, "invalid x-api-key",
            402, "Your credit balance is too low",
            403, "Permission denied",
            404, "Not found",
            413, "Request exceeds the maximum allowed number of bytes",
            429, "Number of request tokens has exceeded your rate limit",
            500, "Internal server error",
            504, "Request timed out",
            529, "Overloaded");

    private ApiErrors() {
    }

    static String typeFor(int status) {
        return TYPE_BY_STATUS.getOrDefault(status, status >= 500 ? "api_error" : "invalid_request_error");
    }

    static String messageFor(int status) {
        return MESSAGE_BY_STATUS.getOrDefault(status, "Error");
    }

    /** Used when a mid-stream failure is scripted but the client asked for JSON. */
    static int statusFor(String type) {
        return TYPE_BY_STATUS.entrySet().stream()
                .filter(e -> e.getValue().equals(type))
                .map(Map.Entry::getKey)
                .findFirst()
                .orElse(500);
    }
}
