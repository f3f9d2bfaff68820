/**
 * generateContent body -> the neutral turn. `contents` with roles user and model; parts as
 * text, inlineData / fileData images, functionCall (model) and functionResponse (user).
 * This service's answers carry each call's id (functionCall.id, which the SDKs keep); a call
 * without one gets one from where it stands (its content and part index), and a functionResponse
 * without one is matched by name to the earliest unanswered call of that name, so the same
 * history always gets the same ids. Consecutive model contents (a streamed answer) are one answer.
 */
import { InvalidRequestError } from '../../errors.ts';
import {
  DEFAULT_TURN,
  checkToolChoice,
  systemMessages,
  validateResponseFormat,
  type ChatTurn,
  type ContentPart,
  type ResponseFormat,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
  type TurnMessage,
} from '../core/index.ts';
import { parseRequestBody } from '../request-body.ts';
import { openApiToJsonSchema } from './json-schema.ts';
import {
  camelizeRequest,
  generateContentRequestSchema,
  type GenerateContentBody,
  type RequestPart,
} from './schema.ts';

/** A generateContent request in neutral form. */
export interface GenerateContentRequest {
  /** The model named in the path, without `models/`. */
  readonly model: string;
  readonly turn: ChatTurn;
  readonly body: GenerateContentBody;
}

/** Validates and translates a parsed JSON body for `model` (from the path); 400 on bad input. */
export function parseGenerateContentRequest(raw: unknown, model: string): GenerateContentRequest {
  const body = parseRequestBody(generateContentRequestSchema, camelizeRequest(raw));
  const config = body.generationConfig ?? {};
  if ((config.candidateCount ?? 1) > 1) {
    throw new InvalidRequestError(
      'generationConfig.candidateCount: only 1 candidate is supported.',
      {
        param: 'generationConfig.candidateCount',
      },
    );
  }
  const declared = (body.tools ?? [])
    .flatMap((t) => t.functionDeclarations ?? [])
    .map((f): ToolDefinition => ({
      name: f.name,
      description: f.description ?? '',
      parameters:
        f.parametersJsonSchema ??
        (f.parameters ? openApiToJsonSchema(f.parameters) : { type: 'object', properties: {} }),
    }));
  const { tools, toolChoice } = readToolConfig(body, declared);
  const responseFormat = readFormat(config);
  validateResponseFormat(responseFormat);
  const system = readSystem(body.systemInstruction);
  return {
    model: model.replace(/^models\//, ''),
    turn: {
      ...DEFAULT_TURN,
      messages: [...systemMessages(system), ...readContents(body.contents)],
      tools,
      toolChoice,
      responseFormat,
      stop: config.stopSequences ?? [],
      maxTokens: config.maxOutputTokens ?? null,
    },
    body,
  };
}

function readSystem(instruction: GenerateContentBody['systemInstruction']): string {
  if (instruction === undefined) {
    return '';
  }
  return typeof instruction === 'string' ? instruction : textOf(instruction.parts);
}

/** ANY with allowed names narrows the tools to them; ANY with one name demands that call. */
function readToolConfig(
  body: GenerateContentBody,
  declared: readonly ToolDefinition[],
): { tools: readonly ToolDefinition[]; toolChoice: ToolChoice } {
  const config = body.toolConfig?.functionCallingConfig ?? {};
  const allowed = config.allowedFunctionNames ?? [];
  const unknown = allowed.find((name) => !declared.some((t) => t.name === name));
  if (unknown !== undefined) {
    throw new InvalidRequestError(
      `toolConfig.functionCallingConfig.allowedFunctionNames names '${unknown}', which is not declared.`,
      { param: 'toolConfig.functionCallingConfig.allowedFunctionNames' },
    );
  }
  if (config.mode === 'NONE') {
    return { tools: declared, toolChoice: { type: 'none' } };
  }
  if (config.mode !== 'ANY') {
    return { tools: declared, toolChoice: { type: 'auto' } };
  }
  const tools = allowed.length === 0 ? declared : declared.filter((t) => allowed.includes(t.name));
  const only = allowed.length === 1 ? allowed[0] : undefined;
  const choice: ToolChoice =
    only === undefined ? { type: 'required' } : { type: 'tool', name: only };
  return {
    tools,
    toolChoice: checkToolChoice(choice, tools, {
      param: 'toolConfig.functionCallingConfig.mode',
      message:
        'toolConfig.functionCallingConfig.mode ANY needs at least one function to call, ' +
        'but tools declare no functionDeclarations.',
    }),
  };
}

type GenerationConfig = NonNullable<GenerateContentBody['generationConfig']>;

function readFormat(config: GenerationConfig): ResponseFormat {
  const mime = config.responseMimeType ?? 'text/plain';
  if (mime === 'text/plain' && !config.responseSchema && !config.responseJsonSchema) {
    return { type: 'text' };
  }
  if (mime !== 'application/json' && mime !== 'text/plain') {
    throw new InvalidRequestError(
      `generationConfig.responseMimeType: '${mime}' is not supported; use text/plain or application/json.`,
      { param: 'generationConfig.responseMimeType' },
    );
  }
  const schema =
    config.responseJsonSchema ??
    (config.responseSchema ? openApiToJsonSchema(config.responseSchema) : null);
  return schema === null
    ? { type: 'json_object' }
    : { type: 'json_schema', name: 'response', schema };
}

/** Calls still waiting for their functionResponse, oldest first. */
type Pending = { id: string; name: string }[];

function readContents(contents: GenerateContentBody['contents']): TurnMessage[] {
  const pending: Pending = [];
  const out: TurnMessage[] = [];
  contents.forEach((content, i) => {
    if (content.role !== 'model') {
      out.push(...userMessages(content.parts, i, pending));
      return;
    }
    const toolCalls: ToolCall[] = content.parts.flatMap((part, j) => {
      const call = part.functionCall;
      if (!call) {
        return [];
      }
      const id = call.id ?? `call_${i}_${j}`;
      pending.push({ id, name: call.name });
      return [{ id, name: call.name, arguments: JSON.stringify(call.args ?? {}) }];
    });
    const text = content.parts.flatMap((p) => (p.text === undefined || p.thought ? [] : [p.text]));
    const last = out.at(-1);
    // A streamed answer comes back as one model content per chunk: one answer, its text pieces
    // joined as they were cut, so its history key is the one its answer was stored under.
    if (last?.role === 'assistant' && contents[i - 1]?.role === 'model') {
      out[out.length - 1] = {
        ...last,
        text: last.text + text.join(''),
        toolCalls: [...last.toolCalls, ...toolCalls],
      };
    } else {
      out.push({ role: 'assistant', text: text.join(''), toolCalls });
    }
  });
  return out;
}

function userMessages(
  parts: readonly RequestPart[],
  index: number,
  pending: Pending,
): TurnMessage[] {
  const out: TurnMessage[] = [];
  const content: ContentPart[] = [];
  parts.forEach((part, j) => {
    const answer = part.functionResponse;
    if (answer) {
      const at = pending.findIndex((c) =>
        answer.id === undefined ? c.name === answer.name : c.id === answer.id,
      );
      const call = at >= 0 ? pending.splice(at, 1)[0] : undefined;
      const response = answer.response ?? {};
      out.push({
        role: 'tool',
        callId: call?.id ?? answer.id ?? `call_${index}_${j}`,
        name: answer.name,
        content: JSON.stringify(response),
        ...('error' in response && !('output' in response) ? { isError: true } : {}),
      });
    } else {
      content.push(...partOf(part, `contents.${index}.parts.${j}`));
    }
  });
  return content.length > 0 ? [...out, { role: 'user', content }] : out;
}

function partOf(part: RequestPart, param: string): ContentPart[] {
  if (part.text !== undefined) {
    return part.thought ? [] : [{ type: 'text', text: part.text }];
  }
  const media = part.inlineData ?? part.fileData;
  const mime = media?.mimeType ?? 'image/*';
  if (media && !mime.startsWith('image/')) {
    throw new InvalidRequestError(`${param}: only images are supported as media, not '${mime}'.`, {
      param,
    });
  }
  if (part.inlineData) {
    return [{ type: 'image', url: `data:${mime};base64,${part.inlineData.data}` }];
  }
  if (part.fileData) {
    if (!/^https?:\/\//.test(part.fileData.fileUri)) {
      throw new InvalidRequestError(`${param}: fileData.fileUri must be an http(s) URL.`, {
        param,
      });
    }
    return [{ type: 'image', url: part.fileData.fileUri }];
  }
  if (part.functionCall) {
    throw new InvalidRequestError(`${param}: a functionCall belongs in a model content.`, {
      param,
    });
  }
  return [];
}

function textOf(parts: readonly RequestPart[]): string {
  return parts.flatMap((p) => (p.text === undefined ? [] : [p.text])).join('\n');
}
