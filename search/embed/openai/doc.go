// Package openai is an embedder that calls an OpenAI-compatible embeddings
// API (POST {BaseURL}/embeddings): OpenAI itself, Ollama, llama.cpp's
// server, vLLM, LM Studio and others that speak the same protocol.
//
// [New] checks an [Options] and returns a [*Client], an embed.Embedder
// whose model id is "openai:" followed by the model name. It reaches only
// the BaseURL the host configures: there is no default server, and an
// OpenAI key found in the environment is sent only to OpenAI's own host
// unless the host names the variable.
//
// Errors: a server's refusal is an [*APIError] (status, type, code,
// message; never the API key); a 2xx answer that is not a valid
// embeddings response matches [ErrBadResponse]; a vector of the wrong
// length is a *vector.DimensionError and one holding NaN, ±Inf or only
// zeros matches vector.ErrInvalid.
package openai
