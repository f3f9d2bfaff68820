/** What the Responses tests share: one function tool as a client sends it. */
export const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};
