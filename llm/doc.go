// Package llm drafts answers with a language model: one client per
// configured endpoint (the config's llm.NAME) of any OpenAI-compatible chat
// completions API (DeepSeek, Qwen's DashScope compatible mode, Moonshot,
// Zhipu, a local vLLM or Ollama).
//
// Safety model. The operator's instruction and facts (Request.System and
// Context) go in the system message; the rendered prompt, which holds the
// commenter's text, goes only in the user message, quoted between
// delimiters that text cannot close or forge, under a system message that
// says the quoted block is content to answer, never instructions (see
// Messages). No tools or functions are ever offered and the answer is asked
// for as plain text; an answer is used only as text (see Clean), never
// interpreted. A refusal, a content filter, tool calls, an answer cut at
// max_tokens or an empty one is KindRefused: the caller flags the comment
// and sends nothing. None of this makes a model obey; the guardrails that
// follow (reject_if, max_length, approval by a person) are what stop a bad
// draft.
//
// Failures come as an *Error whose Kind says what to do: KindRetry (a
// timeout, a connection error, 429, 5xx) on a later cycle, KindFatal (a
// wrong key, model or URL) pausing the endpoint, KindRefused flagging the
// comment. Draft makes exactly one request: retrying is the caller's
// policy, and so is the daily token budget (Spec.DailyTokens).
//
// The API key never appears in an error, a printed Spec or anything else
// this package produces, even when a provider's error echoes it.
//
// Why plain HTTP and not the official openai-go client: tried against the
// imitation (llmtest), openai-go v3.102.0 with its retries off read the
// answers well (reasoning_content lands in its extra fields, the refusal
// field is decoded), but it fought the compatible providers and the daemon
// where it matters: an error body that is not OpenAI's shape (DashScope's
// {"code","message"}, Ollama's {"error": "..."}, a gateway's HTML page)
// reaches the caller as a bare "401 Unauthorized", the provider's reason
// lost; it reads OPENAI_API_KEY, OPENAI_ORG_ID and OPENAI_PROJECT_ID from
// the process environment and sends the organisation and project as
// headers to whatever endpoint is configured (a third-party provider, a
// local server); it reads answers with no bound; and its max_tokens field,
// the one compatible providers read, is deprecated there in favour of
// max_completion_tokens, which several do not. The request is one small
// JSON object and five fields of the answer are read, so this package
// sends it through internal/httpx, as every other client of the daemon
// does: bounded reads, redacted errors, one place for HTTP.
package llm
