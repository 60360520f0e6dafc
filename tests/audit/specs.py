"""API descriptions with each mistake the static rules know, and a careful one."""

from __future__ import annotations

from typing import Any


def careful() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "careful", "version": "1"},
        "servers": [{"url": "https://api.example.test/v1"}, {"url": "http://localhost:8000/v1"}],
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "User": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "email": {"type": "string"},
                        "password": {"type": "string", "writeOnly": True},
                        "friends": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/User"},
                        },
                    },
                }
            },
        },
        "security": [{"basic": []}],
        "paths": {
            "/users/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {
                            "description": "a user",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/User"}
                                }
                            },
                        },
                        "401": {"description": "no credentials"},
                    },
                }
            },
            "/health": {"get": {"security": [], "responses": {"200": {"description": "up"}}}},
        },
    }


def careless() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "careless", "version": "1"},
        "host": "api.example.test",
        "schemes": ["http"],
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            "unused": {"type": "apiKey", "in": "header", "name": "X-Unused"},
        },
        "definitions": {
            "Account": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "password_hash": {"type": "string"}},
            }
        },
        "paths": {
            "/accounts": {
                "get": {
                    "security": [{"basic": []}],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Account"}}
                    },
                }
            },
            "/accounts/export": {"get": {"responses": {"200": {"description": "forgot auth"}}}},
            "/search": {
                "get": {
                    "security": [{"key": []}, {"oauth": []}],
                    "parameters": [{"name": "password", "in": "query", "type": "string"}],
                    "responses": {"200": {"description": "ok"}, "401": {"description": "no"}},
                }
            },
            "/health": {"get": {"responses": {"200": {"description": "up"}}}},
            "/admin/users/{id}/roles": {
                "get": {"security": [], "responses": {"200": {"description": "roles"}}}
            },
        },
    }
