// Package model2vec loads static model2vec embedding models
// (https://github.com/MinishLab/model2vec), such as minishlab/potion-base-8M,
// and embeds texts with them: offline, pure Go, no GPU.
//
// [Load] reads a model's directory (tokenizer.json and model.safetensors)
// into a [*Model], an embed.Embedder whose model id is "model2vec:"
// followed by the directory's name. A text's vector is the mean of its
// tokens' vectors, L2-normalised, as model2vec's StaticModel.encode
// computes it; the tokens come from a [Tokenizer], a WordPiece tokenizer
// reading the BERT-style subset of Hugging Face's tokenizer.json.
//
// Malformed or unsupported model files give errors matching [ErrFormat];
// missing ones, errors matching fs.ErrNotExist.
package model2vec
