"""What the musician hears and drags out: previews through the sound card (player.py), stretched
copies rendered ahead (stretch_renderer.py) and which tempo each file plays and drags at (tempo_lock.py)."""
