// Package bot decides what to do with a shopper's message: answer it from a knowledge
// article, ask the shopper to pick between close candidates (clarify), or hand the
// conversation to a person, with the reason.
//
// The bot never makes up an answer: every answer is the text of an article it found, or,
// with the optional language model (LLM), that article worded for the question and
// citing it; a model that finds the articles do not cover the question hands off. And
// every decision carries the ranked hits it saw, so the console, the log and the
// evaluation can see what the bot knew.
package bot
