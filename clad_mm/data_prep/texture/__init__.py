"""Texture-bias test and training splits made with AdaIN (Stylized IN-9)."""
