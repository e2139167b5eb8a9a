package dev.agentfn.invocation;

import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.tracing.export.ExportStatus;
import java.util.List;

/**
 * A finished invocation: the conversation's result, and where its trace went. Output and content are already
 * redacted of every configured credential.
 *
 * @param toolsCalled tool names in call order, for invocations that asked for them (evaluation rows); else null
 * @param standIn whether the local stand-in of the Messages API answered instead of Claude
 */
public record InvocationOutcome(ConversationResult result, String engine, String traceId, String rootSpanId,
        ExportStatus export, long durationMillis, List<String> toolsCalled, boolean standIn) {
}
