/**
 * Messages between their neutral form and their stored (OpenAI chat) form, images included: a
 * stored user message names its kept images, which come back as image parts with a reference
 * only a plan makes (`kept-image:<name>`); a client's own reference of that form would reach
 * readInputs and be refused like any other unknown scheme.
 */
import type { TurnMessage } from './core/index.ts';
import type { ConversationStore, StoredTurn } from './conversations.ts';

/** The reference an image kept with the conversation has inside a planned turn. */
export const KEPT_PREFIX = 'kept-image:';

/**
 * A neutral message in the stored (OpenAI chat) shape, which the history key is taken over.
 * `keptName` names the kept image of an image reference, when there is one.
 */
export function storedTurn(
  m: TurnMessage,
  keptName: (url: string) => string | undefined = () => undefined,
): StoredTurn {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.text };
    case 'user': {
      const images = m.content.flatMap((p) => {
        const name = p.type === 'image' ? keptName(p.url) : undefined;
        return name ? [name] : [];
      });
      return {
        role: 'user',
        content: m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n'),
        ...(images.length > 0 ? { images } : {}),
      };
    }
    case 'assistant':
      return {
        role: 'assistant',
        content: m.text,
        ...(m.toolCalls.length > 0
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', content: m.content, tool_call_id: m.callId };
  }
}

/** A stored message in neutral form; its kept images come back as image parts. */
export function fromStored(t: StoredTurn): TurnMessage {
  const content = typeof t.content === 'string' ? t.content : '';
  switch (t.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text: content };
    case 'assistant':
      return {
        role: 'assistant',
        text: content,
        toolCalls: (t.tool_calls ?? []).map((c) => ({
          id: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      };
    case 'tool':
      return { role: 'tool', callId: t.tool_call_id ?? '', content };
    default:
      return {
        role: 'user',
        content: [
          { type: 'text', text: content },
          // Only images whose file is still kept (see planConversation).
          ...(t.images ?? []).map((name) => ({ type: 'image' as const, url: KEPT_PREFIX + name })),
        ],
      };
  }
}

/** The stored messages with the names of images no longer kept left out. */
export async function withKeptImages(
  messages: readonly StoredTurn[],
  store: ConversationStore,
): Promise<StoredTurn[]> {
  return Promise.all(
    messages.map(async (t) => {
      if (!t.images?.length) {
        return t;
      }
      const kept = await Promise.all(t.images.map((n) => store.keptImages.path(n)));
      return { ...t, images: t.images.filter((_, i) => kept[i] !== null) };
    }),
  );
}

/**
 * A resent earlier message whose images were not read this time (the turn continued natively)
 * keeps the images stored with the same message before.
 */
export function withCarriedImages(
  stored: StoredTurn,
  message: TurnMessage,
  before: StoredTurn | undefined,
): StoredTurn {
  const imageCount =
    message.role === 'user' ? message.content.filter((p) => p.type === 'image').length : 0;
  const carried =
    before?.role === 'user' && before.content === stored.content ? (before.images ?? []) : [];
  return (stored.images?.length ?? 0) < imageCount && carried.length === imageCount
    ? { ...stored, images: [...carried] }
    : stored;
}
