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
// kb imports no other package of this project, and no other package imports bleve.
package kb
