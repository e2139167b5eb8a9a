package dev.agentfn.mlflow;

/**
 * Every span attribute, trace metadata and tag key agentfn writes or reads, in one place.
 * Names follow {@code mlflow/tracing/constant.py} and the OpenTelemetry GenAI conventions.
 */
public final class MlflowKeys {
    private MlflowKeys() {
    }

    /** Span attributes MLflow reads. */
    public static final class Span {
        private Span() {
        }

        public static final String TYPE = "mlflow.spanType";
        public static final String INPUTS = "mlflow.spanInputs";
        public static final String OUTPUTS = "mlflow.spanOutputs";
        public static final String FUNCTION_NAME = "mlflow.spanFunctionName";
        public static final String TOKEN_USAGE = "mlflow.chat.tokenUsage";
        public static final String CHAT_TOOLS = "mlflow.chat.tools";
        /** Severity of the span, an int of {@link LogLevel} (MLflow 3.17 {@code SpanAttributeKey.LOG_LEVEL}); drives the UI's span filter. */
        public static final String LOG_LEVEL = "mlflow.spanLogLevel";
        public static final String MESSAGE_FORMAT = "mlflow.message.format";
        public static final String LLM_MODEL = "mlflow.llm.model";
        public static final String LLM_PROVIDER = "mlflow.llm.provider";
        public static final String LLM_COST = "mlflow.llm.cost";
        /** Only in {@code traces.json}; never sent over OTLP (MLflow #23051). */
        public static final String TRACE_REQUEST_ID = "mlflow.traceRequestId";
        public static final String SESSION_ID = "session.id";
        public static final String USER_ID = "user.id";
    }

    /** Values of {@link Span#TYPE}. */
    public static final class SpanType {
        private SpanType() {
        }

        public static final String AGENT = "AGENT";
        public static final String CHAT_MODEL = "CHAT_MODEL";
        public static final String LLM = "LLM";
        public static final String TOOL = "TOOL";
        public static final String CHAIN = "CHAIN";
        public static final String EVALUATOR = "EVALUATOR";
    }

    /** Values of {@link Span#LOG_LEVEL} ({@code mlflow.entities.SpanLogLevel}, Python logging's numbers). */
    public static final class LogLevel {
        private LogLevel() {
        }

        public static final int DEBUG = 10;
        public static final int INFO = 20;
        public static final int ERROR = 40;
        public static final int CRITICAL = 50;
    }

    /** Keys inside token usage and cost JSON values. */
    public static final class Usage {
        private Usage() {
        }

        public static final String INPUT_TOKENS = "input_tokens";
        public static final String OUTPUT_TOKENS = "output_tokens";
        public static final String TOTAL_TOKENS = "total_tokens";
        public static final String CACHE_READ_INPUT_TOKENS = "cache_read_input_tokens";
        public static final String CACHE_CREATION_INPUT_TOKENS = "cache_creation_input_tokens";
        public static final String INPUT_COST = "input_cost";
        public static final String OUTPUT_COST = "output_cost";
        public static final String TOTAL_COST = "total_cost";
    }

    /** OpenTelemetry GenAI semantic convention attributes, written beside the MLflow ones. */
    public static final class GenAi {
        private GenAi() {
        }

        public static final String OPERATION_NAME = "gen_ai.operation.name";
        public static final String PROVIDER_NAME = "gen_ai.provider.name";
        public static final String REQUEST_MODEL = "gen_ai.request.model";
        public static final String RESPONSE_MODEL = "gen_ai.response.model";
        public static final String RESPONSE_ID = "gen_ai.response.id";
        public static final String RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
        public static final String USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
        public static final String USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
        public static final String USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
        public static final String USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens";
        public static final String CONVERSATION_ID = "gen_ai.conversation.id";
        public static final String TOOL_NAME = "gen_ai.tool.name";
        public static final String TOOL_CALL_ID = "gen_ai.tool.call.id";
        public static final String TOOL_TYPE = "gen_ai.tool.type";
        public static final String AGENT_NAME = "gen_ai.agent.name";
    }

    /** Trace metadata (immutable once written). */
    public static final class Metadata {
        private Metadata() {
        }

        public static final String SCHEMA_VERSION = "mlflow.trace_schema.version";
        public static final String SESSION = "mlflow.trace.session";
        public static final String USER = "mlflow.trace.user";
        public static final String TOKEN_USAGE = "mlflow.trace.tokenUsage";
        public static final String COST = "mlflow.trace.cost";
        public static final String SOURCE_RUN = "mlflow.sourceRun";
        public static final String SOURCE_NAME = "mlflow.source.name";
        public static final String SOURCE_TYPE = "mlflow.source.type";
        public static final String MODEL_ID = "mlflow.modelId";
        /** Server-set by StartTraceV3; never send it. */
        public static final String INFO_FINALIZED = "mlflow.trace.infoFinalized";
        public static final String AGENTFN_VERSION = "agentfn.version";
        public static final String AGENTFN_ENGINE = "agentfn.engine";
        public static final String AGENTFN_MODEL = "agentfn.model";
        public static final String AGENTFN_STAND_IN = "agentfn.stand_in";
        /** Why a trace has no {@link #MODEL_ID}: MLflow could not be reached to find or create the agent version. */
        public static final String AGENT_VERSION_MISSING = "agentfn.agent_version.missing";
    }

    /** Tags agentfn writes on its logged models (agent versions). */
    public static final class LoggedModelTag {
        private LoggedModelTag() {
        }

        /** The configured agent name ({@code agentfn.agent.name}). */
        public static final String AGENT = "agentfn.agent";
        /** SHA-256 over the version's identity params. */
        public static final String DIGEST = "agentfn.version_digest";
        /** The caller-set label ({@code agentfn.agent.label}): a git commit, a release. */
        public static final String LABEL = "agentfn.label";
    }

    /** Trace tags (mutable). */
    public static final class Tag {
        private Tag() {
        }

        public static final String TRACE_NAME = "mlflow.traceName";
        public static final String ARTIFACT_LOCATION = "mlflow.artifactLocation";
        public static final String SPANS_LOCATION = "mlflow.trace.spansLocation";
        public static final String EVAL_REQUEST_ID = "mlflow.eval.requestId";
        /** On a judge's own trace: the scorer that made it (MLflow's {@code TraceTagKey.SOURCE_SCORER_NAME}). */
        public static final String SOURCE_SCORER = "mlflow.trace.sourceScorer";
        /** The prompt versions a trace used, {@code [{"name": …, "version": "3"}]} ({@code TraceTagKey.LINKED_PROMPTS}). */
        public static final String LINKED_PROMPTS = "mlflow.linkedPrompts";
        /** Set when a cached prompt version served because MLflow could not be reached: why, and which version. */
        public static final String PROMPT_CACHED = "agentfn.prompt.cached";
    }

    /** Assessment metadata keys ({@code mlflow.tracing.constant.AssessmentMetadataKey}); values are strings. */
    public static final class AssessmentMetadata {
        private AssessmentMetadata() {
        }

        /** The evaluation run that produced the assessment. */
        public static final String SOURCE_RUN_ID = "mlflow.assessment.sourceRunId";
        /** USD the judge's model calls cost (the UI's judge cost), as Python's {@code str(float)}. */
        public static final String JUDGE_COST = "mlflow.assessment.judgeCost";
        public static final String JUDGE_INPUT_TOKENS = "mlflow.assessment.judgeInputTokens";
        public static final String JUDGE_OUTPUT_TOKENS = "mlflow.assessment.judgeOutputTokens";
        /** The judge's own trace, when scorers are traced. */
        public static final String SCORER_TRACE_ID = "mlflow.assessment.scorerTraceId";
        /** {@code sha256:<hex>} of the scorer's definition, registered or not. */
        public static final String SCORER_DIGEST = "mlflow.assessment.scorerDigest";
        /** make_judge's instructions, set by its InstructionsJudge on every feedback (no {@code mlflow.} prefix). */
        public static final String GUIDELINE = "guideline";
    }

    /** Run tags MLflow's run page and evaluation views read ({@code mlflow/utils/mlflow_tags.py}). */
    public static final class RunTag {
        private RunTag() {
        }

        public static final String RUN_TYPE = "mlflow.runType";
        /** "Created by". */
        public static final String USER = "mlflow.user";
        /** "Source": the script or job that made the run. */
        public static final String SOURCE_NAME = "mlflow.source.name";
        /** {@code NOTEBOOK}, {@code JOB}, {@code PROJECT}, {@code LOCAL} or {@code UNKNOWN} ({@code entities.SourceType}). */
        public static final String SOURCE_TYPE = "mlflow.source.type";
        public static final String NOTE = "mlflow.note.content";
        /** {@code {"digest": "sha256:…", "hashed": n, "total": m}} over the scorers' definition digests (experimental). */
        public static final String EVALUATE_SCORERS_DIGEST = "mlflow.genaiEvaluate.scorersDigest";
        /** {@code <module>.<qualname>} of the evaluated predict function (experimental). */
        public static final String EVALUATE_AGENT_FUNCTION = "mlflow.genaiEvaluate.agent.function";
    }

    /** Dataset source types of a run input ({@code mlflow.data} sources' {@code _get_source_type()}). */
    public static final class DatasetSource {
        private DatasetSource() {
        }

        /** {@code mlflow.data.evaluation_dataset_source.EvaluationDatasetSource}: source JSON {@code {"dataset_id": …}}. */
        public static final String EVALUATION_DATASET = "mlflow_evaluation_dataset";
        /** {@code mlflow.data.http_dataset_source.HTTPDatasetSource}: source JSON {@code {"url": …}}. */
        public static final String HTTP = "http";
    }

    /** HTTP headers of MLflow's OTLP endpoint. */
    public static final class Header {
        private Header() {
        }

        public static final String EXPERIMENT_ID = "x-mlflow-experiment-id";
        public static final String RUN_ID = "x-mlflow-run-id";
    }
}
