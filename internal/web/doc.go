// Package web is the small web kit that the agent console and the knowledge editor
// share: JSON answers and the closed set of error codes a client sees, the tables that
// map a package's errors to their answers (ErrorAnswers), reading JSON request bodies,
// answering an unexpected failure without showing its cause, and the server of a page
// with its content-hashed static files, which adds the CSS and JavaScript both pages
// use (ui/kit.css and ui/kit.js).
package web
