/**
 * @module api/openai
 * The OpenAI dialect: /v1/chat/completions, /v1/completions, /v1/responses, and the 404 for
 * /v1/embeddings, all over the shared turn runner.
 */
export { chatCompletionsHandler } from './chat-completions.ts';
export { completionsHandler, embeddingsHandler } from './completions.ts';
export { responsesHandler } from './responses.ts';
