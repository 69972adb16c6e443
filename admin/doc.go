// Package admin instruments a socketio.Server for the Socket.IO Admin UI.
package admin
