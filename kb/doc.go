// Package kb stores the knowledge articles and searches them.
//
// An Article is a question-and-answer page with alternative questions as shoppers type
// them. Articles are read from Markdown files with YAML front matter (ParseMarkdown) and
// indexed into bleve with an analyzer built for Chinese: full-width characters are folded
// to half-width, Latin letters to lower case, and Han text is indexed as overlapping
// character bigrams, so a question matches without a dictionary. Index.Search returns the
// ranked hits with their raw scores and the fields that matched; deciding what to do with
// them is package bot's job.
//
// A Store keeps the articles, every version of them, a change feed and the questions the
// bot could not answer: BoltStore in the embedded database of one process, RedisStore
// for several nodes. A Follower keeps a node's Index equal to the store's published
// articles, following the change feed.
//
// kb imports no other package of this project, and no other package imports bleve.
package kb
